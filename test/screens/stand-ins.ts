/**
 * Local stand-ins for the remote images the screens show, so rendering needs no network and gives
 * the same pixels every time. Anything else remote is refused: a new remote image must get a
 * stand-in here rather than silently render as nothing.
 */

const svg = (width: number, height: number, body: string) =>
  `data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`).toString('base64')}`;

/** A portrait: a person's silhouette on a soft gradient (the avatars the fake server hands out). */
const AVATAR = svg(
  120,
  120,
  '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ffd7a8"/><stop offset="1" stop-color="#ff9f7a"/></linearGradient></defs>' +
    '<rect width="120" height="120" fill="url(#g)"/><circle cx="60" cy="48" r="22" fill="#fff" fill-opacity=".92"/>' +
    '<path d="M18 120c4-26 22-40 42-40s38 14 42 40z" fill="#fff" fill-opacity=".92"/>',
);

/** A photo just picked with chooseAvatar: sky, sun and hills. */
const PICKED_PHOTO = svg(
  120,
  120,
  '<rect width="120" height="120" fill="#9fd3ff"/><circle cx="86" cy="34" r="14" fill="#ffe27a"/>' +
    '<path d="M0 92l30-30 24 22 20-16 46 34v18H0z" fill="#5fbf7f"/><path d="M0 104l40-20 30 14 50-18v40H0z" fill="#3f9f63"/>',
);

/** Vant's empty-state pictures, drawn as simple grey illustrations of the same subjects. */
const emptyPicture = (detail: string) =>
  svg(160, 160, `<circle cx="80" cy="80" r="62" fill="#f2f3f5"/><ellipse cx="80" cy="136" rx="44" ry="6" fill="#ebedf0"/>${detail}`);
const EMPTY: Record<string, string> = {
  default: emptyPicture('<rect x="50" y="58" width="60" height="46" rx="6" fill="#dcdee0"/><path d="M50 70h60" stroke="#c8c9cc" stroke-width="4"/>'),
  error: emptyPicture(
    '<rect x="56" y="44" width="48" height="64" rx="6" fill="#dcdee0"/><rect x="77" y="58" width="6" height="26" rx="3" fill="#fff"/><circle cx="80" cy="94" r="4" fill="#fff"/>',
  ),
  network: emptyPicture(
    '<path d="M46 72a48 48 0 0 1 68 0M56 84a34 34 0 0 1 48 0M67 96a18 18 0 0 1 26 0" fill="none" stroke="#c8c9cc" stroke-width="7" stroke-linecap="round"/>' +
      '<circle cx="80" cy="108" r="6" fill="#c8c9cc"/><path d="M52 50l56 64" stroke="#ee0a24" stroke-opacity=".55" stroke-width="6" stroke-linecap="round"/>',
  ),
  search: emptyPicture('<circle cx="74" cy="74" r="20" fill="none" stroke="#c8c9cc" stroke-width="7"/><path d="M89 89l16 16" stroke="#c8c9cc" stroke-width="8" stroke-linecap="round"/>'),
};

export function resolveImage(src: string): string {
  const empty = /^https:\/\/img\.yzcdn\.cn\/vant\/empty-image-(\w+)\.png$/.exec(src);
  if (empty && EMPTY[empty[1]]) return EMPTY[empty[1]];
  if (/^https:\/\/cdn\.test\/avatars\//.test(src)) return AVATAR;
  if (src.startsWith('wxfile://')) return PICKED_PHOTO;
  if (src.startsWith('data:')) return src;
  throw new Error(`no local stand-in for the image ${src} (add one in test/screens/stand-ins.ts)`);
}
