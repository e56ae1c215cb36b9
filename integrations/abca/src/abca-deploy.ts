/* eslint-disable license-header/header -- abca-deploy's integration module (Apache-2.0), copied in from abca-deploy's integrations/abca/src/ */
/**
 * abca-deploy's integration with ABCA's `AgentStack`: the CDK side of splitting the deploy into lifecycles.
 *
 * Opt-in per stack with `--context abcaDeploy=true`. Without that key nothing here creates or changes anything,
 * so the stack synthesizes exactly as before. With it:
 *
 * - the runtime's image comes from the SSM parameter `/abca/<stack-name>/runtime-image` (a CloudFormation
 *   parameter of type `AWS::SSM::Parameter::Value<String>`), which `abca-deploy runtime publish` writes, so a
 *   later `cdk deploy` keeps the image CI published;
 * - a small stack `<stack-name>-runtime-image`, which the integrated stack depends on, holds the ECR repository
 *   `backgroundagent-runtime/<stack-name>` CI publishes to (scan on push, immutable tags, a lifecycle policy that
 *   never expires an image a rollback may need; the runtime may pull from it), and writes the parameter once
 *   when it does not exist yet, from the repository-root image asset (the image ABCA builds today), so a
 *   brand-new stack deploys before its first CI publish. It never overwrites the parameter. It is a stack of its
 *   own because CloudFormation resolves the parameter when it creates the change set, before any resource of
 *   the same stack exists; and deployed alone (`--exclusively`) it gives `runtime adopt` the repository to copy
 *   the live image into before the integrated stack changes anything;
 * - read on the per-repository GitHub token secrets `abca/github-token/*` for every role that resolves a repo's
 *   token, so onboarding a repository with its own token needs no redeploy;
 * - a DNS Firewall domain list allowed by the stack's existing rule group, whose content onboarding maintains
 *   (CloudFormation creates it with constant properties and never rewrites it);
 * - the outputs abca-deploy reads: `RuntimeImageParameterName`, `RuntimeImageRepositoryUri`, `RuntimeDomainListId`;
 * - with `--context abcaDeploy:apiCode=DIR` as well, the repository API `/v1/repos` on the stack's REST API
 *   (`abca-deploy-repo-api.ts`: its routes, function, authorizer and admin group, in a nested stack).
 *
 * Use, in `AgentStack` (see abca-deploy's integrations/abca/README.md for the patch):
 *
 *     const abcaDeploy = AbcaDeploy.fromContext(this, { directory: repoRoot, file: 'agent/Dockerfile' });
 *     new agentcore.Runtime(this, 'Runtime', { agentRuntimeArtifact: abcaDeploy?.artifact ?? artifact, ... });
 *     abcaDeploy?.connect({ runtime, tokenReaders: [...], dnsFirewall, taskApi, repoTable, apiKeyTable });
 */

import { ArnFormat, CfnOutput, CfnResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as route53resolver from 'aws-cdk-lib/aws-route53resolver';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct, type IConstruct } from 'constructs';
import { RepoApi, repoApiContext, repoApiContextKeys, type RepoApiHost, type RepoApiProps } from './abca-deploy-repo-api';

/** The CDK context key that turns the integration on for a stack (`true` or `'true'`). */
export const CONTEXT_KEY = 'abcaDeploy';

/** The stack outputs abca-deploy reads (the same as lib/abca_deploy/abca_stack.py in abca-deploy; its synthesis test compares them). */
export const OUTPUT_KEYS = {
  imageParameterName: 'RuntimeImageParameterName',
  imageRepositoryUri: 'RuntimeImageRepositoryUri',
  domainListId: 'RuntimeDomainListId',
} as const;

/** The per-repository GitHub token secrets abca-deploy's onboarding creates: `abca/github-token/<owner>/<repo>`. */
export const TOKEN_SECRET_PREFIX = 'abca/github-token/';

/** ECR lifecycle: images with a tag matching this pattern are never expired (an operator's pin). */
export const KEEP_TAG_PATTERN = 'keep-*';

/** ECR lifecycle: the content tags `abca-deploy runtime publish` gives every image it pushes. */
export const BUILD_TAG_PATTERN = 'ctx-*';

/** ECR lifecycle: how many of the newest published builds are kept (older ones expire). */
export const BUILDS_KEPT = 30;

/** Priority of the rule that allows the runtime domain list: after ABCA's allow rules, before its catch-all. */
export const DOMAIN_LIST_RULE_PRIORITY = 250;

/** The stack holding the CI repository and seeding the image parameter: `<stack-name>-runtime-image`. */
export const IMAGE_STACK_SUFFIX = '-runtime-image';

/** The tag the image stack puts on the image parameter it creates, naming the stack it belongs to. */
export const OWNER_TAG = 'abca-deploy:stack-name';

// "Never" in practice: an image matched by this higher-priority rule cannot be expired by a later one.
const KEPT_FOREVER_COUNT = 10000;
const TOKEN_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
const FIREWALL_RULE_GROUP_TYPE = 'AWS::Route53Resolver::FirewallRuleGroup';

/** The SSM parameter holding a stack's runtime image URI. */
export function imageParameterName(stackName: string): string {
  return `/abca/${stackName}/runtime-image`;
}

/**
 * The ECR repository CI pushes a stack's runtime images to. It starts with `backgroundagent-`, the prefix
 * ABCA's least-privilege bootstrap lets CloudFormation create repositories under. ECR names are lower case
 * with single separators, so the stack name is lower-cased and runs of '-' are collapsed.
 */
export function imageRepositoryName(stackName: string): string {
  const name = stackName.toLowerCase().replace(/-+/g, '-').replace(/^-|-$/g, '');
  return `backgroundagent-runtime/${name}`;
}

/** The name of the runtime-managed DNS Firewall domain list (names need not be unique; this one is readable). */
export function domainListName(stackName: string): string {
  return `${stackName}-runtime-egress`;
}

/** True when the context key turns the integration on; a value other than true/false is an error. */
export function isEnabled(scope: IConstruct): boolean {
  const value: unknown = scope.node.tryGetContext(CONTEXT_KEY);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`Context ${CONTEXT_KEY} must be true or false, not ${JSON.stringify(value)}.`);
}

/** The build of the seed image: what ABCA passes to `AgentRuntimeArtifact.fromAsset` (directory and options). */
export interface AbcaDeploySeedImageProps extends ecrAssets.DockerImageAssetOptions {
  /** The build context (ABCA: the repository root, so the Dockerfile can copy `contracts/`). */
  readonly directory: string;
}

/** What `connect` wires once the stack's runtime, token readers and DNS firewall exist. */
export interface AbcaDeployConnections {
  /** The AgentCore runtime (construct id `Runtime`). */
  readonly runtime: agentcore.Runtime;
  /** Roles that resolve a repository's GitHub token: the orchestrator (which runs pre-flight), the fan-out consumer. */
  readonly tokenReaders: iam.IGrantable[];
  /** Token readers known only by role ARN (ABCA's ECS task role, when the ECS backend is deployed). */
  readonly tokenReaderRoleArns?: string[];
  /** The construct holding the DNS Firewall rule group (ABCA: `DnsFirewall`). */
  readonly dnsFirewall: IConstruct;
  /** ABCA's `TaskApi` (REST API, user pool, API-key authorizer): the repository API's routes hang on it. */
  readonly taskApi: RepoApiHost;
  /** The repo table (ABCA: `repoTable.table`). */
  readonly repoTable: dynamodb.ITable;
  /** The platform API-key table (ABCA: `apiKeyTable.table`), which the routes' authorizer reads. */
  readonly apiKeyTable: dynamodb.ITable;
}

/** The stack `<stack-name>-runtime-image`: the CI image repository, and the image parameter's first value. */
export class RuntimeImageStack extends Stack {
  /** The repository CI publishes runtime images to. */
  public readonly repository: ecr.Repository;
  /** The image the parameter is seeded with (the repository-root asset, in CDK's container-assets repository). */
  public readonly seedImage: ecrAssets.DockerImageAsset;

  constructor(integrated: Stack, seedImage: AbcaDeploySeedImageProps) {
    const scope = integrated.node.scope;
    if (scope === undefined) throw new Error('AbcaDeploy needs the stack to be in an App or Stage.');
    const owner = integrated.stackName;
    // Construct id = stack name (as ABCA's own stack), so `cdk deploy <stack-name>-runtime-image` selects it.
    super(scope, `${integrated.node.id}${IMAGE_STACK_SUFFIX}`, {
      stackName: `${owner}${IMAGE_STACK_SUFFIX}`,
      env: {
        account: Token.isUnresolved(integrated.account) ? undefined : integrated.account,
        region: Token.isUnresolved(integrated.region) ? undefined : integrated.region,
      },
      description: `Runtime image repository and parameter of ${owner} (abca-deploy integration)`,
    });
    const { directory, ...options } = seedImage;
    this.seedImage = new ecrAssets.DockerImageAsset(this, 'SeedImage', { directory, ...options });
    this.repository = createRepository(this, imageRepositoryName(owner));
    const name = imageParameterName(owner);
    seedParameter(this, name, this.seedImage.imageUri, owner);
    new CfnOutput(this, OUTPUT_KEYS.imageParameterName, { value: name });
    new CfnOutput(this, OUTPUT_KEYS.imageRepositoryUri, { value: this.repository.repositoryUri });
    NagSuppressions.addStackSuppressions(this, [
      { id: 'AwsSolutions-IAM4', reason: 'The AwsCustomResource singleton Lambda uses AWSLambdaBasicExecutionRole (CDK custom-resources framework).' },
      { id: 'AwsSolutions-L1', reason: 'The AwsCustomResource singleton Lambda runtime is chosen by the CDK custom-resources framework.' },
    ]);
  }
}

/** The integration's resources in the integrated stack. Create it with `AbcaDeploy.fromContext`. */
export class AbcaDeploy extends Construct {
  /** The integration for `stack` when its context turns it on, else undefined (nothing is created). */
  public static fromContext(stack: Stack, seedImage: AbcaDeploySeedImageProps): AbcaDeploy | undefined {
    if (isEnabled(stack)) return new AbcaDeploy(stack, 'AbcaDeploy', seedImage);
    const stray = repoApiContextKeys().find((key) => stack.node.tryGetContext(key) !== undefined);
    if (stray !== undefined) throw new Error(`Context ${stray} is set but ${CONTEXT_KEY} is not true: the repository API is part of the integration.`);
    return undefined;
  }

  /** The runtime artifact: the image named by the stack's image parameter. */
  public readonly artifact: agentcore.AgentRuntimeArtifact;
  /** The SSM parameter the image is read from. */
  public readonly imageParameterName: string;
  /** The stack holding the CI repository and seeding the parameter; the integrated stack depends on it. */
  public readonly imageStack: RuntimeImageStack;
  /** The repository CI publishes runtime images to, as this stack refers to it. */
  public readonly repository: ecr.IRepository;
  /** The runtime-managed DNS Firewall domain list (its content is maintained by abca-deploy's onboarding). */
  public readonly domainList: CfnResource;
  /** The repository API, once `connect` added it (context `abcaDeploy:apiCode`); else undefined. */
  public repoApi?: RepoApi;
  private readonly repoApiConfig?: ReturnType<typeof repoApiContext>;
  private connected = false;

  private constructor(stack: Stack, id: string, seedImage: AbcaDeploySeedImageProps) {
    super(stack, id);
    const stackName = stack.stackName;
    this.repoApiConfig = repoApiContext(stack); // read now: a bad key fails before anything is built
    this.imageParameterName = imageParameterName(stackName);
    this.artifact = agentcore.AgentRuntimeArtifact.fromImageUri(
      ssm.StringParameter.valueForStringParameter(stack, this.imageParameterName));
    this.imageStack = new RuntimeImageStack(stack, seedImage);
    stack.addDependency(this.imageStack, 'the runtime image parameter must exist before this stack resolves it');
    // By name, not by reference: no cross-stack export ties the two stacks' updates and deletes together.
    this.repository = ecr.Repository.fromRepositoryName(this, 'RuntimeImageRepository', imageRepositoryName(stackName));
    this.domainList = new CfnResource(this, 'RuntimeDomainList', {
      // A plain CfnResource is not taggable, so stack-wide Tags never change its template, and its only
      // property is a constant name: CloudFormation creates the (empty) list once and never rewrites it.
      type: 'AWS::Route53Resolver::FirewallDomainList',
      properties: { Name: domainListName(stackName) },
    });
    this.domainList.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.createOutputs(stack);
    this.node.addValidation({
      validate: () => this.connected ? [] : [
        'AbcaDeploy.connect() was never called: the runtime would lack its image pull, token and egress grants.',
      ],
    });
  }

  /** Grant the runtime and the token readers what they need, and allow the domain list in the rule group. */
  public connect(connections: AbcaDeployConnections): void {
    if (this.connected) throw new Error('AbcaDeploy.connect() may be called once.');
    this.connected = true;
    const { runtime } = connections;
    // fromImageUri grants nothing: the runtime pulls from the CI repository, and from the seed image's
    // repository (CDK's container assets) until the first publish.
    this.repository.grantPull(runtime);
    this.imageStack.seedImage.repository.grantPull(runtime);
    const importedReaders = (connections.tokenReaderRoleArns ?? []).map((arn, index) =>
      iam.Role.fromRoleArn(this, `TokenReader${index}`, arn, { mutable: true }));
    for (const reader of [runtime, ...connections.tokenReaders, ...importedReaders]) {
      iam.Grant.addToPrincipal({ grantee: reader, actions: TOKEN_READ_ACTIONS, resourceArns: [this.tokenSecretsArn()] });
    }
    if (importedReaders.length > 0) {
      NagSuppressions.addResourceSuppressions(this, [{
        id: 'AwsSolutions-IAM5',
        reason: 'Per-repository GitHub token secrets are created by abca-deploy onboarding under abca/github-token/; their names are unknown at synth. Read only.',
        appliesTo: [{ regex: '/^Resource::arn:.*:secret:abca\\/github-token\\/\\*$/g' }],
      }], true);
    }
    this.allowDomainList(connections.dnsFirewall);
    if (this.repoApiConfig !== undefined) {
      const { taskApi, repoTable, apiKeyTable } = connections;
      const props: RepoApiProps = {
        ...this.repoApiConfig, taskApi, repoTable, apiKeyTable, domainListArn: this.domainList.getAtt('Arn').toString(),
      };
      this.repoApi = new RepoApi(this, 'RepoApi', props);
    }
  }

  private tokenSecretsArn(): string {
    return Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${TOKEN_SECRET_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private createOutputs(stack: Stack): void {
    new CfnOutput(stack, OUTPUT_KEYS.imageParameterName, {
      value: this.imageParameterName,
      description: 'SSM parameter holding the runtime image (abca-deploy runtime publish writes it)',
    });
    new CfnOutput(stack, OUTPUT_KEYS.imageRepositoryUri, {
      value: this.repository.repositoryUri,
      description: 'ECR repository abca-deploy publishes runtime images to',
    });
    new CfnOutput(stack, OUTPUT_KEYS.domainListId, {
      value: this.domainList.getAtt('Id').toString(),
      description: 'DNS Firewall domain list abca-deploy onboarding keeps equal to the repos\' egress allowlists',
    });
  }
  private allowDomainList(dnsFirewall: IConstruct): void {
    const groups = dnsFirewall.node.findAll().filter((c): c is route53resolver.CfnFirewallRuleGroup =>
      CfnResource.isCfnResource(c) && c.cfnResourceType === FIREWALL_RULE_GROUP_TYPE);
    if (groups.length !== 1) {
      throw new Error(`AbcaDeploy.connect(): expected one ${FIREWALL_RULE_GROUP_TYPE} under ${dnsFirewall.node.path}, found ${groups.length}.`);
    }
    const group = groups[0];
    const rules = group.firewallRules;
    if (!Array.isArray(rules)) {
      throw new Error(`AbcaDeploy.connect(): the rules of ${group.node.path} are not a list this module can extend.`);
    }
    if (rules.some((rule) => 'priority' in rule && rule.priority === DOMAIN_LIST_RULE_PRIORITY)) {
      throw new Error(`AbcaDeploy.connect(): priority ${DOMAIN_LIST_RULE_PRIORITY} of ${group.node.path} is taken.`);
    }
    group.firewallRules = [...rules, {
      action: 'ALLOW',
      firewallDomainListId: this.domainList.getAtt('Id').toString(),
      priority: DOMAIN_LIST_RULE_PRIORITY,
    }];
  }
}

function createRepository(scope: Construct, repositoryName: string): ecr.Repository {
  const repository = new ecr.Repository(scope, 'Repository', {
    repositoryName,
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    removalPolicy: RemovalPolicy.DESTROY,
    emptyOnDelete: true,
  });
  // Rollback returns to the image of an earlier runtime version, so only builds well behind the newest
  // expire; pinned images (keep-*) never do, nor does any image without a ctx- tag (e.g. an adopted one).
  // No rule touches untagged images: they include the per-platform children of multi-platform images.
  repository.addLifecycleRule({
    rulePriority: 1,
    description: `Never expire images tagged ${KEEP_TAG_PATTERN}`,
    tagPatternList: [KEEP_TAG_PATTERN],
    maxImageCount: KEPT_FOREVER_COUNT,
  });
  repository.addLifecycleRule({
    rulePriority: 2,
    description: `Keep the newest ${BUILDS_KEPT} published builds (${BUILD_TAG_PATTERN})`,
    tagPatternList: [BUILD_TAG_PATTERN],
    maxImageCount: BUILDS_KEPT,
  });
  return repository;
}

function seedParameter(stack: Stack, name: string, image: string, owner: string): void {
  const parameterArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
  new cr.AwsCustomResource(stack, 'SeedImageParameter', {
    // Create only, never overwrite: an existing parameter (an earlier publish, or `runtime adopt`) wins, and
    // no update call exists, so a changed seed image never replaces what CI published.
    onCreate: {
      service: 'SSM',
      action: 'putParameter',
      parameters: {
        Name: name,
        Value: image,
        Type: 'String',
        Overwrite: false,
        Description: `Runtime image of stack ${owner}, written by abca-deploy runtime publish`,
        Tags: [{ Key: OWNER_TAG, Value: owner }],
      },
      physicalResourceId: cr.PhysicalResourceId.of(name),
      ignoreErrorCodesMatching: 'ParameterAlreadyExists',
    },
    onDelete: {
      service: 'SSM',
      action: 'deleteParameter',
      parameters: { Name: name },
      ignoreErrorCodesMatching: 'ParameterNotFound',
    },
    policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
      actions: ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:DeleteParameter'],
      resources: [parameterArn],
    })]),
    installLatestAwsSdk: false,
  });
}
