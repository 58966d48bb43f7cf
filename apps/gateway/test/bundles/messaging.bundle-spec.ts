// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../messages.e2e-spec';
import '../send-round-trips.e2e-spec';
import '../outbox-store.e2e-spec';
import '../inbound-content.e2e-spec';
import '../inbound-events.e2e-spec';
