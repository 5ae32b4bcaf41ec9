/** What `quickstart` writes into its directory, and the sample image it rehearses with. */
import { fileURLToPath } from 'node:url';

export const DEFAULT_QUICKSTART_DIR = 'kbs-bundler-quickstart';

/** File names inside the quickstart directory. */
export const QUICKSTART_FILES = {
  /** Marks the directory as quickstart output, so a re-run may write into it. */
  marker: '.kbs-bundler-quickstart.json',
  secretKey: 'EXAMPLE-ONLY-secret-key.asc',
  publicKey: 'public-key.asc',
  password: 'EXAMPLE-ONLY-registry-password',
  ca: 'registry-ca.crt',
  manifest: 'manifest.json',
  tampered: 'manifest-tampered.json',
  store: 'sigstore',
  bundle: 'bundle.yaml',
  kbs: 'kbs',
  rootfs: 'rootfs',
} as const;

/** The image of templates/example/: its manifest is the sample signed here. */
export const SAMPLE = {
  registry: 'registry.example.com:5000',
  image: 'registry.example.com:5000/demo/app:1.0',
  username: 'demo',
  /** TEST-NET-1: the guest /etc/hosts entry `stage` writes. */
  address: '192.0.2.10',
  guestStore: 'file:///var/lib/containers/sigstore',
  kbsRepository: 'default',
  kbsTag: 'test',
} as const;

/** `templates/` at the package root: two levels up from src/quickstart/ and from dist/quickstart/. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

export const SAMPLE_MANIFEST = `${TEMPLATE_DIR}example/manifest.json`;
export const SAMPLE_CA = `${TEMPLATE_DIR}example/registry-ca.crt`;
export const BUNDLE_TEMPLATE = `${TEMPLATE_DIR}quickstart/bundle.yaml`;

export interface QuickstartMarker {
  tool: 'kbs-bundler quickstart';
  version: 1;
}

export const MARKER: QuickstartMarker = { tool: 'kbs-bundler quickstart', version: 1 };
