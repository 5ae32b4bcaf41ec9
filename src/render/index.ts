export * from './template.js';
export { RENDER_TEMPLATE_DIR, renderTemplateFile, type TemplateName } from './templates.js';
export * from './kbs-uris.js';
export * from './initdata.js';
export * from './pod.js';
export * from './kernel-params.js';
export * from './snippets.js';
export { kbsUrl as validateKbsUrl } from './validate.js';
export * from './initdata-image.js';
