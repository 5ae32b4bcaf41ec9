/** The pod YAML of the openEuler guide (`sign-test.yaml`), optionally carrying initdata. */
import { imageReference, k8sLabel, k8sName } from './validate.js';
import { renderTemplateFile } from './templates.js';

export interface PodOptions {
  image: string;
  /** Pod name (default sign-test, as in the guide). */
  name?: string;
  /** RuntimeClass (default kata). */
  runtimeClass?: string;
  /** Container name (default box). */
  containerName?: string;
  /** The initdata annotation value (gzip+base64). */
  initdata?: string;
}

export function renderPod(o: PodOptions): Promise<string> {
  return renderTemplateFile('pod.yaml', {
    image: imageReference(o.image, { field: '--image' }),
    name: k8sName(o.name ?? 'sign-test', { field: '--name' }),
    runtimeClass: k8sName(o.runtimeClass ?? 'kata', { field: '--runtime-class' }),
    containerName: k8sLabel(o.containerName ?? 'box', { field: '--container-name' }),
    initdata: o.initdata,
  });
}
