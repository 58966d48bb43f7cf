// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../media-send.e2e-spec';
import '../media-receive.e2e-spec';
import '../media-expired.e2e-spec';
import '../media-address-policy.e2e-spec';
