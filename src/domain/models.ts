/**
 * The models papgate knows, per vendor, by their canonical names: those of the references its
 * templates follow (config/templates/README.md, "Models known"; W = Wazo provd plugins, F =
 * FusionPBX template folders). An admin's spelling of one (`sip-t54w`, `Yealink T54W`) is read as
 * its canonical name; any other model is refused unless the operator declares it (EXTRA_MODELS).
 * Keyed by vendor name (device.ts's VENDORS), which this file does not import: device.ts imports it.
 */

/**
 * Yealink models by SIP accounts: W `_NB_SIP_ACCOUNTS` (wazo_yealink v82-v87 `common.py`, the newest
 * plugin's number where they differ). null: no count in W (W's 0 for W75B/W80B/W90B, run by a DECT
 * manager, is none either), models W's `entry.py` or F's folders name: the vendor module writes
 * MAX_ACCOUNTS for them.
 */
export const YEALINK_ACCOUNTS: readonly (readonly [accounts: number | null, models: string])[] = [
  [1, 'CP860 CP920 CP960 T19P T19P_E2 T30 T30P'],
  [2, 'T20P T21P T21P_E2 T31 T31G T31P'],
  [3, 'T22P T23P T23G T26P T32G T40G T40P'],
  [4, 'T33G T33P T34W AX83H AX86R VP530P'],
  [5, 'W52P'],
  [6, 'T27P T27G T28P T38G T41P T41S T41U'],
  [8, 'W60B'],
  [10, 'W70B'],
  [12, 'T42G T42S T42U T43U T44W T44U T52S T53 T53W T73U T73W'],
  [16, 'T29G T46G T46S T46U T48G T48S T48U T49G T54S T54W T56A T57W T58 T58W T74U T74W T77U'],
  [16, 'T85W T87W T88W T88V'],
  [20, 'W75DM'],
  [30, 'W80DM'],
  [250, 'W90DM'],
  // W v86 `entry.py` (CP925, CP965, T31W, T33, T53C, T56, T57), v85/v87 (W75B, W80B, W90B);
  // F folders `t58a`, `t58v`, `vp59`, `w56p`.
  [null, 'CP925 CP965 T31W T33 T53C T56 T57 T58A T58V VP59 W56P W75B W80B W90B'],
];

const words = (s: string) => s.split(' ');

/**
 * The Cisco family, sold under both names (Linksys, then Cisco), whose models W provisions with the
 * same templates (`wazo_cisco_spa/common/templates/base.tpl`). ATAs: W `spa100_v1_3_5p`,
 * `pap2t_v5_1_6`, `spa2102_v5_2_12`, `spa3102_v5_1_10`, `spa8000_v6_1_11`, `spa8800_v6_1_7`
 * (`entry.py` MODEL_VERSION); F `cisco/spa112`, `spa122`, `linksys/spa2102`, `spa3102`. Phones: W
 * `v7_5_5/entry.py` PSN, `legacy/entry.py` MODEL_VERSION.
 */
const CISCO = [
  ...words('SPA112 SPA122 SPA8000 SPA8800 PAP2T SPA2102 SPA3102'),
  ...words('SPA301 SPA303 SPA501G SPA502G SPA504G SPA508G SPA509G SPA512G SPA514G SPA525G SPA525G2'),
  ...words('SPA901 SPA921 SPA922 SPA941 SPA942 SPA962'),
];

/** Poly UC Software phones: W `wazo_polycom/*` `entry.py` MODELS; F `polycom/ccx500`, `duo`, `poly/edge-e550`. */
const POLY = [
  ...words('SPIP301 SPIP320 SPIP321 SPIP330 SPIP331 SPIP335 SPIP430 SPIP450 SPIP501 SPIP550 SPIP560'),
  ...words('SPIP600 SPIP601 SPIP650 SPIP670 SSIP4000 SSIP5000 SSIP6000 SSIP7000'),
  ...words('VVX101 VVX150 VVX201 VVX250 VVX300 VVX301 VVX310 VVX311 VVX350 VVX400 VVX401 VVX410'),
  ...words('VVX411 VVX450 VVX500 VVX501 VVX600 VVX601 VVX1500 CCX500'),
  'SoundStation Duo',
  'Edge E550',
];

export const KNOWN_MODELS = {
  yealink: YEALINK_ACCOUNTS.flatMap(([, models]) => words(models)),
  // W `wazo_snom/v8_*` ... `v10_*` `entry.py` MODELS; F `snom/<model>` (360, D715, D725, PA1plus).
  snom: words(
    '300 320 360 370 710 715 720 725 760 820 821 870 D120 D140 D150 D305 D315 D335 D345 D375 D385 ' +
      'D712 D713 D715 D717 D725 D735 D745 D765 D785 D810 D812 D815 D862 D865 D892 MP PA1 PA1plus',
  ),
  poly: POLY,
  // None: no reference names Spectralink models (F `spectralink/` is empty); the UCS-based
  // handsets of docs/phones.md by the vendor's names (84xx, Versity), unverified.
  spectralink: [
    '8440',
    '8441',
    '8450',
    '8452',
    '8453',
    'Versity 9540',
    'Versity 9553',
    'Versity 9640',
    'Versity 9653',
  ],
  cisco: CISCO,
  linksys: CISCO,
  // W `wazo_gigaset/N510/entry.py`, `N720/entry.py` MODEL_VERSIONS.
  gigaset: ['N510 IP PRO', 'N720 DM PRO', 'N720 IP PRO'],
  // W `wazo_patton/v6_11/entry.py` MODELS.
  patton: words('SN4112 SN4112S SN4114 SN4116 SN4118 SN4316 SN4324 SN4332'),
  // W `wazo_grandstream/v1_*/entry.py` MODELS; F `grandstream/grp2612w`, `gxp3240`.
  grandstream: words(
    'GXP1100 GXP1105 GXP1160 GXP1165 GXP1400 GXP1405 GXP1450 GXP1610 GXP1615 GXP1620 GXP1625 GXP1628 ' +
      'GXP1630 GXP2000 GXP2100 GXP2110 GXP2120 GXP2124 GXP2130 GXP2135 GXP2140 GXP2160 GXP2170 GXP2200 ' +
      'GXP3240 GRP2612 GRP2612W GRP2613 GRP2614 GRP2615 GRP2616 GXV3350 GXV3370 GXV3380 HT801 HT802 ' +
      'HT801V2 HT802V2',
  ),
  // W `wazo_panasonic/v01_133/entry.py` MODELS; F `panasonic/ut670`, `tgp500`, `tgp550` (the
  // standard format; F's `utg200b`, `utg300b` are XML files, another format).
  panasonic: words('KX-UT113 KX-UT123 KX-UT133 KX-UT136 KX-UT670 KX-TGP500 KX-TGP550'),
} as const satisfies Record<string, readonly string[]>;

export type ModelVendor = keyof typeof KNOWN_MODELS;

/** Models the operator declared per vendor (EXTRA_MODELS), as written there. */
export type DeclaredModels = Readonly<Partial<Record<ModelVendor, readonly string[]>>>;

const BRAND = /^(?:YEALINK|SNOM|POLYCOM|POLY|SPECTRALINK|CISCO|LINKSYS|GIGASET|PATTON|GRANDSTREAM|PANASONIC)/;

/** How each vendor's models are also written: the prefixes of its User-Agents and product names. */
const ALIASES: Partial<Record<ModelVendor, readonly (readonly [RegExp, string])[]>> = {
  // `SIP-T54W`, `SIP VP-T49G` (User-Agents), `VP-T49G`.
  yealink: [
    [/^SIP(?=[A-Z])/, ''],
    [/^VP(?=T)/, ''],
  ],
  // `SoundPoint IP 650`, `IP650` (F `polycom/ip650`), `SoundStation IP 5000`.
  poly: [
    [/^(?:SOUNDPOINTIP|SOUNDPOINT|SPIP|IP)(?=[3-6][0-9]{2}$)/, 'SPIP'],
    [/^(?:SOUNDSTATIONIP|SSIP|IP)(?=[4-7]000$)/, 'SSIP'],
  ],
  spectralink: [[/^VERSITY/, '']],
  // `N510`, `N720 DM`: the suffix names no other model.
  gigaset: [[/(?:IP)?PRO$/, '']],
  patton: [[/^(?:SMARTNODE|SN)/, 'SN']],
  // `KX-UT136`, `UT136`.
  panasonic: [[/^KX/, '']],
};

/** A model's text as it is compared: upper case, without the brand, blanks, `-` and `_`, aliases read. */
export function modelKey(vendor: ModelVendor, model: string): string {
  let key = model
    .toUpperCase()
    .replace(/[\s_-]+/g, '')
    .replace(BRAND, '');
  for (const [re, to] of ALIASES[vendor] ?? []) key = key.replace(re, to);
  return key;
}

/** The canonical name of `model` among those known of `vendor` and those declared; null: none. */
export function knownModel(vendor: ModelVendor, model: string, declared: DeclaredModels = {}): string | null {
  const key = modelKey(vendor, model);
  if (key === '') return null;
  const all: readonly string[] = [...KNOWN_MODELS[vendor], ...(declared[vendor] ?? [])];
  return all.find((m) => modelKey(vendor, m) === key) ?? null;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The `n` known models of `vendor` nearest to `model` (edit distance of their keys), nearest first. */
export function closestModels(vendor: ModelVendor, model: string, n = 3): string[] {
  const key = modelKey(vendor, model);
  return KNOWN_MODELS[vendor]
    .map((m, i) => ({ m, i, d: distance(key, modelKey(vendor, m)) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, n)
    .map((x) => x.m);
}
