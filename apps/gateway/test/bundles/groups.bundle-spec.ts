// A bundle: these suites run in one jest file, sharing one module registry (see BUNDLES in jest.preset.js).
import { FeatureStack } from '../feature-stack';
import '../groups.e2e-spec';
import '../group-admin.e2e-spec';
import '../group-policies.e2e-spec';
import '../communities.e2e-spec';
import '../channels.e2e-spec';

// Its suites that ask for the same options run on one stack.
FeatureStack.shareAmongSuites();
