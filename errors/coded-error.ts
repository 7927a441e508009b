/**
 * The one shape of pullgate's typed errors (DESIGN.md, Style: "typed errors with closed code unions"): a
 * message for people and a `code` from a closed union for code, so a caller's `switch` is checked for
 * exhaustiveness and a reason can be counted in a metric without parsing text.
 *
 * This folder is the bottom layer: every other folder may import it and it imports nothing of ours
 * (test/style/layers.test.ts), so pki, oci, the verifiers, registry and the front doors share one base.
 *
 * Each subclass states its `name` as a literal field rather than reading `new.target.name`: the bundler
 * renames a class whose identifier collides with another module's, and the name is part of what operators
 * read in logs.
 */
export abstract class CodedError<C extends string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
