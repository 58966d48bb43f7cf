// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import '../events.e2e-spec';
import '../events-retention.e2e-spec';
import '../webhooks.e2e-spec';
import '../webhooks-ssrf.e2e-spec';
import '../webhook-claim.e2e-spec';
import '../openapi-coverage.e2e-spec';
