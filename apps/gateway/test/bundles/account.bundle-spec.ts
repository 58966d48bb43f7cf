// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../presence.e2e-spec';
import '../profile.e2e-spec';
import '../calls.e2e-spec';
import '../chat-organisation.e2e-spec';
