import { F } from '../../catalogue/index.js';
import { labelSet, type LabelSet } from '../../exposition/labels.js';
import type { ExporterInfo } from './view.js';
import type { FamilyEmitter } from './kit.js';

/** Info label sets are built once per distinct info (it never changes within a run). */
const cached = <T>(build: (info: ExporterInfo) => T) => {
  let last: ExporterInfo | undefined;
  let value: T | undefined;
  return (info: ExporterInfo): T => {
    if (info !== last) [last, value] = [info, build(info)];
    return value!;
  };
};

const buildLabels = cached((i): LabelSet => labelSet({ version: i.version, ditto_sdk_version: i.dittoSdkVersion }));
const infoLabels = cached((i): LabelSet => labelSet({ source: i.source, backend: i.backend, strict_mode: i.strictMode, peer_id_label: i.peerIdLabel }));

export const EXPORTER_EMITTERS: readonly FamilyEmitter[] = [
  { def: F.buildInfo, emit: (view, out) => out.value(F.buildInfo, buildLabels(view.info), 1) },
  { def: F.exporterInfo, emit: (view, out) => out.value(F.exporterInfo, infoLabels(view.info), 1) },
];
