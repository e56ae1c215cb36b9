/* eslint-disable license-header/header -- abca-deploy's integration module (Apache-2.0), copied in from abca-deploy's integrations/abca/src/ */
/**
 * abca-deploy's repository API (`/v1/repos`) on ABCA's REST API: the routes, their function and authorizer.
 *
 * Added by `AbcaDeploy.connect()` when the context key `abcaDeploy:apiCode` names the function's code, a
 * directory built by abca-deploy's `scripts/build-api-function`. Everything lives in a nested stack, because
 * ABCA's stack is close to CloudFormation's 500-resource limit (ABCA moved its registry API into a nested stack
 * for the same reason); ABCA's own stack gains only the nested stack and a new API deployment. Inside it:
 *
 * - the function (Python, arm64, abca-deploy's `abca_deploy.api.handler.handler`), its environment (the stack
 *   name, the admin group and the guardrails from `abcaDeploy:*` context keys), and a role allowed exactly the
 *   calls the handler makes: the repo table's items, the `abca/github-token/*` secrets, DescribeStacks on this
 *   stack (for the outputs the guardrails read), and writing its own log group;
 * - a second instance of ABCA's API-key authorizer (the same code asset and environment, but requiring the
 *   `repos:read` scope of an API key; a Cognito ID token passes as before), with its own least-privilege role;
 * - GET and POST on ABCA's existing `repos` resource, GET, PATCH and DELETE on `repos/{repo_id}` (created only
 *   if ABCA has not created them), each a Lambda proxy integration behind that authorizer;
 * - the admin group in ABCA's user pool, and (unless `abcaDeploy:gatewayResponses=false`) API Gateway's own
 *   401, 403 and 429 answers in ABCA's error envelope.
 */

import * as fs from 'fs';
import * as path from 'path';
import { Annotations, ArnFormat, CfnOutput, Duration, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';

/** Context key: the directory holding the function's code (`scripts/build-api-function DIR`); set, it adds the API. */
export const API_CODE_CONTEXT_KEY = 'abcaDeploy:apiCode';

/** Context key: `false` keeps API Gateway's own 401/403/429 answers instead of ABCA's error envelope. */
export const GATEWAY_RESPONSES_CONTEXT_KEY = 'abcaDeploy:gatewayResponses';

/** The API's settings taken from context `abcaDeploy:<name>`; each becomes the function's `ABCA_<NAME>` variable. */
export const API_SETTINGS = ['adminGroup', 'allowedOwners', 'maxRepos', 'allowedModels', 'requireToken', 'githubApiUrl'] as const;
export type ApiSetting = typeof API_SETTINGS[number];

/** The Cognito group whose members may change repositories, unless `abcaDeploy:adminGroup` names another. */
export const DEFAULT_ADMIN_GROUP = 'RepoAdmin';

/** The API-key scope the routes' authorizer requires (writes also need `repos:manage`, which the handler checks). */
export const READ_SCOPE = 'repos:read';

/** The function's runtime and architecture: what `scripts/build-api-function` builds for by default. */
export const API_RUNTIME = lambda.Runtime.PYTHON_3_13;
export const API_ARCHITECTURE = lambda.Architecture.ARM_64;
export const API_HANDLER = 'abca_deploy.api.handler.handler';

/** The file `scripts/build-api-function` writes last into the function directory, naming what it was built for. */
export const FUNCTION_MANIFEST = 'abca-deploy-function.json';

/** The construct id of ABCA's API-key authorizer function under its `TaskApi`. */
export const API_KEY_AUTHORIZER_ID = 'ApiKeyAuthorizerFn';

/** Stack output: the log group of the repository API's function (one JSON line per request). */
export const LOG_GROUP_OUTPUT = 'RepoApiLogGroupName';

const REQUIRED_SCOPE_VARIABLE = 'API_KEY_REQUIRED_SCOPE';
const MEMORY_MB = 512;
// API Gateway ends a REST integration after 29 s; the function gets as long.
const TIMEOUT_SECONDS = 29;
const TOKEN_SECRETS = 'abca/github-token/*';
const ROUTES: ReadonlyArray<readonly [string, 'repos' | 'repo']> = [
  ['GET', 'repos'], ['POST', 'repos'], ['GET', 'repo'], ['PATCH', 'repo'], ['DELETE', 'repo'],
];
const GATEWAY_RESPONSES: ReadonlyArray<readonly [apigw.ResponseType, string, string, string]> = [
  [apigw.ResponseType.UNAUTHORIZED, '401', 'UNAUTHORIZED', 'Missing or invalid authentication.'],
  [apigw.ResponseType.ACCESS_DENIED, '403', 'FORBIDDEN',
    'Access denied: send a valid Cognito ID token (Authorization) or an API key (X-API-Key) with the scope this route requires.'],
  [apigw.ResponseType.THROTTLED, '429', 'RATE_LIMIT_EXCEEDED', 'Too many requests; retry in a few seconds.'],
];

/** ABCA's `TaskApi`: its REST API, user pool and app client, and (as a child) its API-key authorizer function. */
export interface RepoApiHost extends IConstruct {
  readonly api: apigw.RestApi;
  readonly userPool: cognito.IUserPool;
  readonly appClientId: string;
}

/** What the repository API is wired to. */
export interface RepoApiProps {
  /** The directory `scripts/build-api-function` built. */
  readonly code: string;
  readonly taskApi: RepoApiHost;
  readonly repoTable: dynamodb.ITable;
  readonly apiKeyTable: dynamodb.ITable;
  /** The runtime DNS Firewall domain list's ARN: every write keeps it equal to the active repositories' egress. */
  readonly domainListArn: string;
  /** The API's settings (context `abcaDeploy:<name>`), validated. */
  readonly settings: Partial<Record<ApiSetting, string>>;
  readonly gatewayResponses: boolean;
}

/** The environment variable a setting becomes: `maxRepos` -> `ABCA_MAX_REPOS` (abca-deploy's settings naming). */
export function settingVariable(name: ApiSetting): string {
  return `ABCA_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Every context key of the repository API. */
export function repoApiContextKeys(): string[] {
  return [API_CODE_CONTEXT_KEY, GATEWAY_RESPONSES_CONTEXT_KEY, ...API_SETTINGS.map((name) => `abcaDeploy:${name}`)];
}

/** The repository API's props from the context of `scope`, or undefined when `abcaDeploy:apiCode` is not set. */
export function repoApiContext(scope: IConstruct): Omit<RepoApiProps, 'taskApi' | 'repoTable' | 'apiKeyTable' | 'domainListArn'> | undefined {
  const code: unknown = scope.node.tryGetContext(API_CODE_CONTEXT_KEY);
  const settings: Partial<Record<ApiSetting, string>> = {};
  for (const name of API_SETTINGS) {
    const value = settingValue(name, scope.node.tryGetContext(`abcaDeploy:${name}`));
    if (value !== undefined) settings[name] = value;
  }
  const responses: unknown = scope.node.tryGetContext(GATEWAY_RESPONSES_CONTEXT_KEY);
  if (code === undefined) {
    const given = [...Object.keys(settings), ...(responses === undefined ? [] : ['gatewayResponses'])];
    if (given.length > 0) {
      throw new Error(`Context abcaDeploy:${given[0]} configures the repository API, which needs ${API_CODE_CONTEXT_KEY} (see abca-deploy's integrations/abca/README.md).`);
    }
    return undefined;
  }
  if (typeof code !== 'string' || code === '') {
    throw new Error(`Context ${API_CODE_CONTEXT_KEY} must be the path of a directory built by abca-deploy's scripts/build-api-function.`);
  }
  return { code: checkedCode(code), settings, gatewayResponses: booleanSetting('gatewayResponses', responses ?? true) };
}

function settingValue(name: ApiSetting, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const fail = (form: string) => new Error(`Context abcaDeploy:${name} must be ${form}, not ${JSON.stringify(value)}.`);
  switch (name) {
    case 'maxRepos': {
      const count = typeof value === 'number' ? value : Number(String(value).trim());
      if (!Number.isInteger(count) || count < 1) throw fail('an integer of at least 1');
      return String(count);
    }
    case 'requireToken':
      return String(booleanSetting(name, value));
    case 'allowedOwners':
    case 'allowedModels': {
      const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
      if (items === undefined || !items.every((item) => typeof item === 'string')) throw fail('a comma-separated list or a list of strings');
      return items.map((item: string) => item.trim()).filter(Boolean).join(',');
    }
    case 'adminGroup':
      if (typeof value !== 'string' || !/^\S{1,128}$/.test(value)) throw fail('a Cognito group name (1-128 characters, no spaces)');
      return value;
    case 'githubApiUrl':
      if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value)) throw fail('an http(s) URL');
      return value;
  }
}

function booleanSetting(name: string, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`Context abcaDeploy:${name} must be true or false, not ${JSON.stringify(value)}.`);
}

/** The code directory, refused unless its manifest says it was built for this function's Python and architecture. */
function checkedCode(directory: string): string {
  const manifestPath = path.join(directory, FUNCTION_MANIFEST);
  const build = 'build it with abca-deploy\'s scripts/build-api-function';
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`${API_CODE_CONTEXT_KEY}: ${directory} has no ${FUNCTION_MANIFEST}; ${build}.`);
  }
  let manifest: { python?: string; platform?: string; handler?: string };
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (err) {
    throw new Error(`${API_CODE_CONTEXT_KEY}: ${manifestPath} is not readable JSON (${String(err)}); ${build}.`);
  }
  const python = API_RUNTIME.name.replace(/^python/, '');
  const machine = API_ARCHITECTURE === lambda.Architecture.ARM_64 ? 'aarch64-' : 'x86_64-';
  if (manifest.python !== python || !manifest.platform?.startsWith(machine) || manifest.handler !== API_HANDLER) {
    throw new Error(`${API_CODE_CONTEXT_KEY}: ${directory} was built for Python ${manifest.python} on ${manifest.platform}; `
      + `the function runs Python ${python} on ${machine}linux: ${build} and its default --python and --platform.`);
  }
  return directory;
}

/** The repository API's nested stack. Create it through `AbcaDeploy.connect()`. */
export class RepoApi extends NestedStack {
  /** The function answering every route. */
  public readonly handler: lambda.Function;
  /** The routes' REQUEST authorizer: ABCA's API-key authorizer code, requiring `repos:read` of API keys. */
  public readonly authorizer: apigw.RequestAuthorizer;

  constructor(scope: Construct, id: string, props: RepoApiProps) {
    super(scope, id, { description: 'abca-deploy repository API (/v1/repos)' });
    const parent = Stack.of(scope);
    const adminGroup = props.settings.adminGroup ?? DEFAULT_ADMIN_GROUP;
    const environment: Record<string, string> = { ABCA_STACK_NAME: parent.stackName };
    for (const name of API_SETTINGS) {
      const value = name === 'adminGroup' ? adminGroup : props.settings[name];
      if (value !== undefined) environment[settingVariable(name)] = value;
    }
    this.handler = this.createHandler(props, parent, environment);
    this.authorizer = new apigw.RequestAuthorizer(this, 'Authorizer', {
      handler: this.cloneApiKeyAuthorizer(props),
      // As ABCA's: a request carries Authorization or X-API-Key, so no identity source is required (they would
      // be AND-ed), and nothing is cached (a revoked key stops working at once).
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    this.addRoutes(props.taskApi.api);
    new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
      userPoolId: props.taskApi.userPool.userPoolId,
      groupName: adminGroup,
      description: 'May change repositories through the repository API (abca-deploy)',
    });
    if (props.gatewayResponses) this.addGatewayResponses(props.taskApi.api);
    new CfnOutput(parent, LOG_GROUP_OUTPUT, {
      value: this.handler.logGroup.logGroupName,
      description: 'Log group of the repository API (one JSON line per request, by request id)',
    });
  }

  private createHandler(props: RepoApiProps, parent: Stack, environment: Record<string, string>): lambda.Function {
    const { role, logGroup } = functionRole(this, 'Function');
    const handler = new lambda.Function(this, 'Function', {
      description: 'abca-deploy repository API: /v1/repos on ABCA\'s REST API',
      runtime: API_RUNTIME,
      architecture: API_ARCHITECTURE,
      handler: API_HANDLER,
      code: lambda.Code.fromAsset(props.code),
      memorySize: MEMORY_MB,
      timeout: Duration.seconds(TIMEOUT_SECONDS),
      environment,
      role,
      logGroup,
    });
    // Exactly the calls the handler makes (abca_deploy.repos.table, aws.secrets, aws.cloudformation).
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
      resources: [props.repoTable.tableArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret',
        'secretsmanager:PutSecretValue', 'secretsmanager:RestoreSecret', 'secretsmanager:TagResource'],
      resources: [this.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: TOKEN_SECRETS, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53resolver:GetFirewallDomainList', 'route53resolver:ListFirewallDomains',
        'route53resolver:UpdateFirewallDomains'],
      resources: [props.domainListArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [this.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${parent.stackName}/*` })],
    }));
    NagSuppressions.addResourceSuppressions(role, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Per-repository token secrets are created at runtime under abca/github-token/ (names unknown at synth); a stack ARN ends in its id.',
      appliesTo: [
        { regex: '/^Resource::arn:.*:secret:abca\\/github-token\\/\\*$/g' },
        { regex: '/^Resource::arn:.*:cloudformation:.*:stack\\/.*\\/\\*$/g' },
      ],
    }], true);
    NagSuppressions.addResourceSuppressions(handler, [{
      id: 'AwsSolutions-L1',
      reason: 'The runtime is the Python version abca-deploy builds the function\'s binary wheels for (scripts/build-api-function).',
    }]);
    return handler;
  }

  /** ABCA's API-key authorizer again: its code asset and environment, but requiring `repos:read` of API keys. */
  private cloneApiKeyAuthorizer(props: RepoApiProps): lambda.Function {
    const original = props.taskApi.node.tryFindChild(API_KEY_AUTHORIZER_ID);
    if (!(original instanceof lambda.Function)) {
      throw new Error(`AbcaDeploy: no Lambda function ${API_KEY_AUTHORIZER_ID} under ${props.taskApi.node.path} (ABCA's API-key authorizer, created when TaskApi has an apiKeyTable).`);
    }
    const cfn = original.node.defaultChild as lambda.CfnFunction;
    const code = cfn.code as lambda.CfnFunction.CodeProperty;
    const runtime = lambda.Runtime.ALL.find((candidate) => candidate.name === cfn.runtime);
    if (code.s3Bucket === undefined || code.s3Key === undefined || runtime === undefined || typeof cfn.handler !== 'string') {
      throw new Error(`AbcaDeploy: ${original.node.path} is not a function from an S3 code asset with a known runtime.`);
    }
    const environment: Record<string, string> = {
      API_KEY_TABLE_NAME: props.apiKeyTable.tableName,
      [REQUIRED_SCOPE_VARIABLE]: READ_SCOPE,
      USER_POOL_ID: props.taskApi.userPool.userPoolId,
      APP_CLIENT_ID: props.taskApi.appClientId,
      ABCA_COMPONENT: 'api',
    };
    sameEnvironmentBut(original, environment, REQUIRED_SCOPE_VARIABLE);
    const { role, logGroup } = functionRole(this, 'AuthorizerFunction');
    const bucket = s3.Bucket.fromBucketName(this, 'AuthorizerCode', code.s3Bucket);
    // The key is the original's asset key, a hash of its content: new code is a new key, so no object version.
    Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified',
      'The object key is the CDK asset hash of ABCA\'s authorizer bundle.');
    const clone = new lambda.Function(this, 'AuthorizerFunction', {
      description: `ABCA's API-key authorizer requiring ${READ_SCOPE} (abca-deploy repository API)`,
      code: lambda.Code.fromBucketV2(bucket, code.s3Key),
      handler: cfn.handler,
      runtime,
      architecture: (cfn.architectures ?? []).includes('arm64') ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: typeof cfn.memorySize === 'number' ? cfn.memorySize : undefined,
      timeout: typeof cfn.timeout === 'number' ? Duration.seconds(cfn.timeout) : undefined,
      environment,
      role,
      logGroup,
    });
    // The authorizer reads one key record by id (a consistent GetItem), nothing else.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.apiKeyTable.tableArn] }));
    return clone;
  }

  private addRoutes(api: apigw.RestApi): void {
    const repos = api.root.getResource('repos') ?? api.root.addResource('repos');
    const repo = repos.getResource('{repo_id}') ?? repos.addResource('{repo_id}');
    // A proxy integration without LambdaIntegration's automatic permission: that permission names the stage,
    // whose deployment depends on these methods, which would make this nested stack depend on itself.
    const integration = new apigw.AwsIntegration({
      proxy: true,
      service: 'lambda',
      path: `2015-03-31/functions/${this.handler.functionArn}/invocations`,
    });
    const principal = new iam.ServicePrincipal('apigateway.amazonaws.com');
    for (const [httpMethod, where] of ROUTES) {
      const resource = where === 'repos' ? repos : repo;
      const id = `${httpMethod.charAt(0)}${httpMethod.slice(1).toLowerCase()}${where === 'repos' ? 'Repos' : 'Repo'}`;
      const method = new apigw.Method(this, id, {
        resource,
        httpMethod,
        integration,
        options: { authorizer: this.authorizer, authorizationType: apigw.AuthorizationType.CUSTOM },
      });
      this.handler.addPermission(`Invoke${id}`, {
        principal,
        sourceArn: api.arnForExecuteApi(httpMethod, where === 'repos' ? '/repos' : '/repos/*', '*'),
      });
      NagSuppressions.addResourceSuppressions(method, [{
        id: 'AwsSolutions-COG4',
        reason: 'The repository API uses ABCA\'s REQUEST authorizer, which verifies a Cognito ID token or a scoped platform API key.',
      }]);
    }
  }

  private addGatewayResponses(api: apigw.RestApi): void {
    for (const [type, statusCode, code, message] of GATEWAY_RESPONSES) {
      // ABCA's errorResponse body, byte for byte (JSON.stringify: no spaces), with API Gateway's request id.
      const body = JSON.stringify({ error: { code, message, request_id: '$context.requestId' } });
      new apigw.GatewayResponse(this, `${code.charAt(0)}${code.slice(1).toLowerCase().replace(/_(.)/g, (_, c: string) => c.toUpperCase())}Response`, {
        restApi: api,
        type,
        statusCode,
        responseHeaders: { 'Access-Control-Allow-Origin': '\'*\'' },
        templates: { 'application/json': body },
      });
    }
  }
}

/** A Lambda role with nothing but writing to the function's own log group (kept a month, as ABCA's API logs). */
function functionRole(scope: Construct, id: string): { role: iam.Role; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn], // its streams: the attribute ends in ':*'
  }));
  return { role, logGroup };
}

/** Refuse a clone whose environment differs from the original's other than in `except` (ABCA changed it). */
function sameEnvironmentBut(original: lambda.Function, clone: Record<string, string>, except: string): void {
  const stack = Stack.of(original);
  const cfn = original.node.defaultChild as lambda.CfnFunction;
  const resolved = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
  const theirs = resolved?.variables ?? {};
  const ours = stack.resolve(clone) as Record<string, unknown>;
  const names = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])].filter((name) => name !== except);
  const differ = names.filter((name) => JSON.stringify(theirs[name]) !== JSON.stringify(ours[name]));
  if (differ.length > 0 || !(except in theirs)) {
    throw new Error(`AbcaDeploy: ${original.node.path}'s environment differs from the repository API's copy in ${differ.join(', ') || except}; update abca-deploy's module to this ABCA.`);
  }
}
