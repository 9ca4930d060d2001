import { xmlEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const FILE = /^cfg([0-9a-f]{12})\.xml$/;
// `Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabbcc`
const UA = /^Grandstream\s+Model\s+HW\s+([A-Za-z0-9_-]+)(?:.*?\bDevId\s+([0-9A-Fa-f]{12}))?/;

export const grandstream: VendorModule = {
  family: 'grandstream',
  vendors: ['grandstream'],
  files: ['cfg<mac>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpCredentials: true,
  matchFile: (file) => configFile(FILE, 'cfg.xml', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides: () => [],
};
