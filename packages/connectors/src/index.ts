export { builtInConnectors } from './built-in-connectors';
export { codeJs } from './code/code-js';
export {
  CODE_ARGUMENT_NAMES,
  type CodeArguments,
  closeCodeSandboxPool,
  configureCodeSandboxPool,
  runSandboxedCode,
  type SandboxOptions,
  startCodeSandboxPool,
} from './code/run-sandboxed-code';
export { createConnectorRegistry } from './connector-registry';
export { FLOW_FAIL_CODE, flowFail } from './flow/flow-fail';
export { flowForEach, MAX_FOR_EACH_CONCURRENCY } from './flow/flow-for-each';
export { flowIf } from './flow/flow-if';
export { flowReturn } from './flow/flow-return';
export { flowSwitch, SWITCH_DEFAULT_PORT } from './flow/flow-switch';
export { flowWait } from './flow/flow-wait';
export { flowWaitForEvent } from './flow/flow-wait-for-event';
export { flowSubworkflow } from './flow/flow-subworkflow';
export { approvalEvent, DEFAULT_APPROVER_ROLES, flowApproval } from './flow/flow-approval';
export { isTruthy } from './flow/is-truthy';
export { applyCredential, type CredentialTarget, DEFAULT_API_KEY_HEADER } from './http/apply-credential';
export {
  ERROR_BODY_CHARS,
  HTTP_METHODS,
  type HttpResponseOutput,
  httpRequest,
  MAX_RESPONSE_BYTES,
} from './http/http-request';
export { fetchClientCredentialsToken, type OAuth2Token } from './http/oauth2-token';
export { OAuth2TokenCache } from './http/oauth2-token-cache';
export { transform } from './transform/transform';
