/** The image policy's public surface: parse the `policy:` section, match a rule, combine outcomes. */
export type { CosignRequirement, CosignIdentity, CosignKey, ImagePolicy, ImagePolicyRule, NotaryRoles, NotaryV1Requirement, NotationRequirement, PinnedKey, Requirement, RuleAction, Scope, SupportedVerifier, TrustServer, VerifierName } from './types.ts';
export { VERIFIER_NAMES } from './types.ts';
export { parseImagePolicy } from './parse.ts';
export { defaultParseContext, readTextBounded } from './parse-context.ts';
export type { PolicyParseContext } from './parse-context.ts';
export { RuleIndex, matchRule } from './match.ts';
export { combine, isSettled, unmatchedMessage } from './combine.ts';
export type { ImagePolicyReason, RequirementOutcome, RuleVerdict } from './combine.ts';
