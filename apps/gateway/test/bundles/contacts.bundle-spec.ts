// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import { FeatureStack } from '../feature-stack';
import '../contacts.e2e-spec';
import '../contact-names.e2e-spec';
import '../labels.e2e-spec';
import '../history.e2e-spec';
import '../one-chat-per-contact.e2e-spec';

// Its suites that ask for the same options run on one stack.
FeatureStack.shareAmongSuites();
