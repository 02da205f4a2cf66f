import * as auth from './auth';
import * as audit from './audit';
import * as credentials from './credentials';
import * as members from './members';
import * as runs from './runs';
import * as tenants from './tenants';
import * as workflows from './workflows';

export * from './audit';
export * from './auth';
export * from './common';
export * from './credentials';
export * from './errors';
export * from './members';
export * from './permissions';
export * from './plans';
export * from './route';
export * from './runs';
export * from './tenants';
export * from './workflows';

export { auth, audit, credentials, members, runs, tenants, workflows };
