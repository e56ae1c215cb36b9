/**
 * The synthesis test app: a small stand-in for ABCA's CDK app (cdk/src/main.ts) around `MiniAbcaStack`.
 *
 * Context: `stackName` (default backgroundagent-dev), `abcaDeploy` (the integration's key), `blueprintEgress`
 * (comma-separated domains, as ABCA's Blueprints feed its DNS firewall), `github:sha` (a stack tag, as ABCA's CI
 * sets one per deploy), and `abcaDeployTestApp:unpatched` (true: build the stack as unpatched ABCA, never
 * calling the module, for the "nothing changes without the key" comparison).
 */
import { App, Aspects, Tags } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MiniAbcaStack } from './mini-abca-stack';

const app = new App();
// As ABCA does: every stack of the app is checked, and an unsuppressed finding fails the synth.
Aspects.of(app).add(new AwsSolutionsChecks());
const stackName: string = app.node.tryGetContext('stackName') ?? 'backgroundagent-dev';
const unpatched = String(app.node.tryGetContext('abcaDeployTestApp:unpatched') ?? 'false') === 'true';
const stack = new MiniAbcaStack(app, stackName, { patched: !unpatched, description: 'abca-deploy synthesis test' });
Tags.of(stack).add('github:sha', String(app.node.tryGetContext('github:sha') ?? 'none'));
app.synth();
