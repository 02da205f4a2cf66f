import type { Connector } from '@automateiq/connector-kit';
import { codeJs } from './code/code-js';
import { flowApproval } from './flow/flow-approval';
import { flowFail } from './flow/flow-fail';
import { flowForEach } from './flow/flow-for-each';
import { flowIf } from './flow/flow-if';
import { flowReturn } from './flow/flow-return';
import { flowSubworkflow } from './flow/flow-subworkflow';
import { flowSwitch } from './flow/flow-switch';
import { flowWait } from './flow/flow-wait';
import { flowWaitForEvent } from './flow/flow-wait-for-event';
import { httpRequest } from './http/http-request';
import { transform } from './transform/transform';

/** The node types that ship with AutomateIQ (so far: flow control, transform, code.js, http.request). */
export const builtInConnectors: readonly Connector[] = [
  flowIf,
  flowSwitch,
  flowForEach,
  flowWait,
  flowWaitForEvent,
  flowSubworkflow,
  flowApproval,
  flowReturn,
  flowFail,
  transform,
  codeJs,
  httpRequest,
];
