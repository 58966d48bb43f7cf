// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../sessions.e2e-spec';
import '../session-qr-wait.e2e-spec';
import '../session-restarts.e2e-spec';
import '../session-runner-stall.e2e-spec';
import '../lease-check-receipts.e2e-spec';
