/**
 * Namespaces and images the operator exempts from the webhook's rules (`webhook.exemptNamespaces`,
 * `webhook.exemptImages`). The webhook configuration's namespaceSelector in daemonset/ keeps pullgate's own
 * namespace out of the apiserver's calls altogether; these lists are the in-process counterpart, for clusters
 * that cannot label namespaces and for bootstrap images. Exempting here does not exempt from the node gate:
 * an exempted image still has to pass the trust policy when a node pulls it.
 *
 * Image patterns, normalised like pod images (`pause` means `docker.io/library/pause`):
 *   `registry/repository`         any tag or digest of that repository
 *   `registry/repository:tag`     that tag (also when pinned, `:tag@sha256:…`)
 *   `registry/repository@digest`  that digest
 *   `prefix*`                     every repository whose `registry/repository` starts with prefix
 */
import { ConfigError } from '../config/fields.ts';
import type { WebhookConfig } from '../config/types.ts';
import { ImageReferenceError, parseImageReference, type ImageReference } from './image-reference.ts';

type ImagePattern =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'exact'; readonly name: string; readonly tag: string | undefined; readonly digest: string | undefined };

export class Exemptions {
  readonly #namespaces: ReadonlySet<string>;
  readonly #images: readonly ImagePattern[];

  private constructor(namespaces: ReadonlySet<string>, images: readonly ImagePattern[]) {
    this.#namespaces = namespaces;
    this.#images = images;
  }

  /** Throws a ConfigError naming `webhook.exemptImages[i]` for a pattern that is not an image reference. */
  static fromConfig(config: Pick<WebhookConfig, 'exemptNamespaces' | 'exemptImages'>, file: string | undefined): Exemptions {
    const images = config.exemptImages.map((text, i) => compile(text, file ?? '(built-in defaults)', `webhook.exemptImages[${i}]`));
    return new Exemptions(new Set(config.exemptNamespaces), images);
  }

  namespace(ns: string): boolean {
    return this.#namespaces.has(ns);
  }

  image(ref: ImageReference): boolean {
    for (const p of this.#images) {
      if (p.kind === 'prefix') {
        if (ref.name.startsWith(p.prefix)) return true;
      } else if (p.name === ref.name && (p.tag === undefined || p.tag === ref.tag) && (p.digest === undefined || p.digest === ref.digest?.text)) {
        return true;
      }
    }
    return false;
  }
}

function compile(text: string, file: string, key: string): ImagePattern {
  if (text.endsWith('*')) {
    const prefix = text.slice(0, -1);
    if (prefix.length === 0 || prefix.includes('*') || !prefix.includes('/')) {
      throw new ConfigError(file, key, `"${text}" is not an image prefix`, 'write a registry and path prefix, e.g. registry.k8s.io/*');
    }
    return { kind: 'prefix', prefix };
  }
  try {
    const ref = parseImageReference(text);
    return { kind: 'exact', name: ref.name, tag: ref.tag, digest: ref.digest?.text };
  } catch (err) {
    if (!(err instanceof ImageReferenceError)) throw err;
    throw new ConfigError(file, key, `"${text}" is not an image reference: ${err.message}`, 'write e.g. registry.k8s.io/pause:3.9 or registry.k8s.io/*');
  }
}
