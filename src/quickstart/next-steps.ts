/** What to run after the rehearsal for a real setup: own key, real registry, the kata image, initdata, the pod. */
import * as path from 'node:path';
import { QUICKSTART_FILES } from './layout.js';

export interface NextStep {
  what: string;
  commands: string[];
}

/** Single-quoted for a POSIX shell unless it is plainly safe. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function nextSteps(dir: string): NextStep[] {
  const q = (name: string) => shellQuote(path.join(dir, name));
  const bundle = q(QUICKSTART_FILES.bundle);
  return [
    {
      what: 'Make your own signing key (keep the secret key off shared machines; the quickstart key is for this rehearsal only)',
      commands: [
        "gpg --quick-gen-key 'Your Name <you@example.com>' rsa3072 sign 2y && gpg -a --export you@example.com > signer.asc",
        "kbs-bundler keygen --name 'Your Name' --email you@example.com --out keys --passphrase-file passphrase.txt   # or this",
      ],
    },
    {
      what: 'Sign your images in your registry (skopeo writes signatures to the lookaside-staging directory of registries.d)',
      commands: [
        'skopeo copy --sign-by you@example.com docker://SOURCE docker://REGISTRY:5000/APP:TAG',
        'kbs-bundler sign --key keys/signing-key.sec.asc --reference REGISTRY:5000/APP:TAG --digest sha256:... --store sigstore   # or this',
      ],
    },
    {
      what: `Edit ${bundle}: your registry, key file, signature store, username and password file, CA and address; then build the KBS repository and check it`,
      commands: [
        `kbs-bundler build -c ${bundle} -o kbs   # --layout flat for trustee >= v0.19, --k8s secrets.yaml for trustee-operator`,
        `kbs-bundler lint -c ${bundle}`,
      ],
    },
    {
      what: 'Stage the signatures, key, CA and hosts entry into the kata guest image (unstage undoes it)',
      commands: [`kbs-bundler stage -c ${bundle} --rootfs /opt/kata/share/kata-containers/kata-containers.img`],
    },
    {
      what: 'Ask the guest-check verifier before booting anything',
      commands: [
        'kbs-bundler verify REGISTRY:5000/APP:TAG --kbs kbs --rootfs /opt/kata/share/kata-containers/kata-containers.img --fetch --mode both',
      ],
    },
    {
      what: 'Give the pod its initdata (KBS address, policy, sigstore config, credentials, CA) and run it',
      commands: [
        `kbs-bundler render initdata -c ${bundle} --kbs-url http://KBS_HOST:8080 -o initdata.toml`,
        'kbs-bundler render pod --image REGISTRY:5000/APP:TAG --initdata initdata.toml -o sign-test.yaml',
        'kubectl apply -f sign-test.yaml && kubectl get pods',
      ],
    },
  ];
}
