/**
 * A read-only Docker Registry HTTP API v2 client for one repository: GETs below `/v2/<repo>/`, answering
 * 401 challenges with the selected credential (Basic, or the Bearer token flow), following blob redirects,
 * and turning error statuses into RegistryError with the registry's own error code in the message.
 */
import type { AuthsFile } from './auths-schema.js';
import { referenceName, type DockerReference } from '../reference/index.js';
import { parseChallenges } from './challenge.js';
import { selectCredential, type SelectedCredential } from './credentials.js';
import { RegistryError } from './errors.js';
import { httpGet, type HttpResponse, type TransportOptions } from './http.js';

export interface ClientOptions extends TransportOptions {
  /** Registry credentials (`auth.json` / the KBS credential resource). */
  auths?: AuthsFile;
}

const MAX_TOKEN_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;

/** Docker Hub's API lives on registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

function registryErrorText(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    if (first)
      return [first.code, first.message]
        .filter((s) => typeof s === 'string' && s !== '')
        .join(': ')
        .slice(0, 200);
  } catch {
    // not JSON
  }
  return '';
}

export class RepositoryClient {
  readonly ref: DockerReference;
  readonly registry: string;
  readonly credential: SelectedCredential | undefined;
  private readonly options: ClientOptions;
  private readonly base: string;
  private authorization: string | undefined;

  constructor(ref: DockerReference, options: ClientOptions = {}) {
    this.ref = ref;
    this.registry = ref.registry;
    this.options = options;
    this.credential = options.auths ? selectCredential(options.auths, ref) : undefined;
    this.base = `${options.insecure ? 'http' : 'https'}://${apiHost(ref.registry)}/v2/${ref.repository}/`;
  }

  /** GET `<base><path>`; 2xx → the response, anything else → RegistryError. `what` names the thing in messages. */
  async get(path: string, o: { accept?: string; maxBytes: number; what: string }): Promise<HttpResponse> {
    const url = this.base + path;
    let res = await this.send(url, o);
    if (res.status === 401) {
      const retried = await this.answerChallenge(res);
      if (retried) res = await this.send(url, o);
      if (res.status === 401) throw this.authError(res);
    }
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.location; hops++) {
      if (hops === MAX_REDIRECTS)
        throw new RegistryError(
          'E_REGISTRY_RESPONSE',
          this.registry,
          `too many redirects fetching ${o.what} from registry ${this.registry}`,
        );
      const next = new URL(res.headers.location, res.url);
      const sameOrigin = next.origin === new URL(url).origin;
      res = await httpGet(next.toString(), {
        ...this.transport(),
        registry: this.registry,
        maxBytes: o.maxBytes,
        what: o.what,
        headers: {
          ...(o.accept ? { Accept: o.accept } : {}),
          ...(sameOrigin && this.authorization ? { Authorization: this.authorization } : {}),
        },
      });
    }
    if (res.status >= 200 && res.status < 300) return res;
    throw this.statusError(res, o.what);
  }

  private transport(): TransportOptions {
    const { caPems, insecure, timeoutMs, addresses, allowCaLeaf, caSources, onTrusted } = this.options;
    return { caPems, insecure, timeoutMs, addresses, allowCaLeaf, caSources, onTrusted };
  }

  private send(url: string, o: { accept?: string; maxBytes: number; what: string }): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (o.accept) headers.Accept = o.accept;
    if (this.authorization) headers.Authorization = this.authorization;
    return httpGet(url, { ...this.transport(), registry: this.registry, headers, maxBytes: o.maxBytes, what: o.what });
  }

  private basic(): string | undefined {
    const c = this.credential;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  /** Sets `authorization` from the 401's challenge; false when there is nothing new to try. */
  private async answerChallenge(res: HttpResponse): Promise<boolean> {
    const header = res.headers['www-authenticate'];
    const challenges = parseChallenges(Array.isArray(header) ? header.join(', ') : (header ?? ''));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
      if (this.authorization?.startsWith('Bearer ')) return false;
      this.authorization = `Bearer ${await this.fetchToken(bearer.params.realm, bearer.params.service, bearer.params.scope)}`;
      return true;
    }
    const basic = this.basic();
    if (basic && this.authorization !== basic) {
      this.authorization = basic;
      return true;
    }
    return false;
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string | undefined): Promise<string> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        'E_REGISTRY_RESPONSE',
        this.registry,
        `registry ${this.registry} sent a token realm that is not a URL`,
      );
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.options.insecure)) {
      throw new RegistryError(
        'E_REGISTRY_TLS',
        this.registry,
        `registry ${this.registry} sent an http token realm (${url.origin}); refusing to send credentials without TLS (use --insecure to allow)`,
      );
    }
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope ?? `repository:${this.ref.repository}:pull`);
    const basic = this.basic();
    const res = await httpGet(url.toString(), {
      ...this.transport(),
      registry: this.registry,
      maxBytes: MAX_TOKEN_BYTES,
      what: 'token',
      headers: basic ? { Authorization: basic } : {},
    });
    if (res.status === 401 || res.status === 403) throw this.authError(res);
    if (res.status !== 200) throw this.statusError(res, `token from ${url.origin}`);
    let token: unknown;
    try {
      const body = JSON.parse(res.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError(
        'E_REGISTRY_RESPONSE',
        this.registry,
        `token server ${url.origin} for registry ${this.registry} answered without a token`,
      );
    }
    return token;
  }

  private authError(res: HttpResponse): RegistryError {
    const name = referenceName(this.ref);
    const detail = registryErrorText(res.body);
    const msg = this.credential
      ? `authentication failed for ${this.registry} (credential from auths key ${JSON.stringify(this.credential.key)})`
      : `registry ${this.registry} requires authentication and no auths entry matches ${name}`;
    return new RegistryError('E_REGISTRY_AUTH', this.registry, detail ? `${msg}: ${detail}` : msg, {
      status: res.status,
    });
  }

  private statusError(res: HttpResponse, what: string): RegistryError {
    const detail = registryErrorText(res.body);
    const suffix = detail ? ` (${detail})` : '';
    if (res.status === 404) {
      return new RegistryError(
        'E_REGISTRY_NOT_FOUND',
        this.registry,
        `${what} not found in registry ${this.registry}${suffix}`,
        { status: 404 },
      );
    }
    if (res.status === 403) {
      const msg = this.credential
        ? `access denied by ${this.registry} (credential from auths key ${JSON.stringify(this.credential.key)})`
        : `access denied by ${this.registry} (no auths entry matches ${referenceName(this.ref)})`;
      return new RegistryError('E_REGISTRY_AUTH', this.registry, msg + suffix, { status: 403 });
    }
    if (res.status === 400 && /HTTP request to an HTTPS server/i.test(res.body.toString('utf8'))) {
      return new RegistryError(
        'E_REGISTRY_TLS',
        this.registry,
        `registry ${this.registry} speaks https, but was asked over plain http; drop --insecure`,
        { status: 400 },
      );
    }
    return new RegistryError(
      'E_REGISTRY_RESPONSE',
      this.registry,
      `registry ${this.registry} answered HTTP ${res.status} for ${what}${suffix}`,
      { status: res.status },
    );
  }
}
