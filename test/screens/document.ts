/**
 * A rendered page put inside WeChat's frame on a phone-sized screen: the status bar, the
 * navigation bar (the page's title from its json or app.json's window, the back arrow on pages
 * that were navigated to, the capsule), the webview holding the page, and app.json's tab bar on
 * tab pages. One self-contained HTML document per screen and width: no network, no scripts.
 */
import fs from 'fs';
import path from 'path';
import { MINIPROGRAM } from '../miniprogram/support/render';
import { fillRpx } from './wxss';

export interface Device {
  width: number;
  height: number;
  /** Status bar height, px. */
  statusBar: number;
  /** The home indicator's inset below the tab bar, px. */
  safeBottom: number;
}

/** The widths the layout checks measure, each on a phone of that width. */
export const DEVICES: Record<number, Device> = {
  320: { width: 320, height: 568, statusBar: 20, safeBottom: 0 }, // iPhone SE (1st gen)
  375: { width: 375, height: 812, statusBar: 44, safeBottom: 34 }, // iPhone X / 11 Pro
  414: { width: 414, height: 896, statusBar: 44, safeBottom: 34 }, // iPhone XR / 11
};

/** What a screen shows, independent of the width it is drawn at. */
export interface Snapshot {
  id: string;
  title: string;
  /** The page, root-relative without extension. */
  page: string;
  /** The page's DOM, serialised, rpx placeholders left in. */
  html: string;
  /** The page's compiled WXSS, rpx placeholders left in. */
  css: string;
}

interface WindowOptions {
  navigationBarTitleText?: string;
  navigationBarBackgroundColor?: string;
  navigationBarTextStyle?: 'black' | 'white';
}
interface AppJson {
  style?: string;
  window?: WindowOptions;
  tabBar?: {
    color: string;
    selectedColor: string;
    backgroundColor: string;
    borderStyle?: 'black' | 'white';
    list: { pagePath: string; text: string; iconPath?: string; selectedIconPath?: string }[];
  };
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(MINIPROGRAM, file), 'utf8')) as T;
const read = (file: string) => fs.readFileSync(path.join(__dirname, file), 'utf8');
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function dataUri(file: string): string {
  const type = file.endsWith('.png') ? 'image/png' : file.endsWith('.svg') ? 'image/svg+xml' : 'image/jpeg';
  return `data:${type};base64,${fs.readFileSync(path.join(MINIPROGRAM, file)).toString('base64')}`;
}

function tabBar(app: AppJson, page: string): string {
  const bar = app.tabBar;
  if (!bar || !bar.list.some((item) => item.pagePath === page)) return '';
  const items = bar.list.map((item) => {
    const selected = item.pagePath === page;
    const icon = selected ? item.selectedIconPath : item.iconPath;
    const iconHtml = icon ? `<div class="wx-tab-bar__icon" style="background-image:url(${dataUri(icon)})"></div>` : '';
    return `<div class="wx-tab-bar__item" data-tab-page="${escape(item.pagePath)}" style="color:${selected ? bar.selectedColor : bar.color}">${iconHtml}<div class="wx-tab-bar__text">${escape(item.text)}</div></div>`;
  });
  const border = bar.borderStyle === 'white' ? 'rgba(255,255,255,.33)' : 'rgba(0,0,0,.33)';
  return `<div class="wx-tab-bar" style="background:${bar.backgroundColor};--tab-border:${border}">${items.join('')}</div>`;
}

/**
 * `env(safe-area-inset-*)` as the webview answers it (Chromium here answers 0): on a page without
 * a tab bar the webview reaches the bottom of the screen, so the bottom inset is the home
 * indicator's; above a tab bar (which keeps clear of it itself) and at the top, under WeChat's
 * navigation bar, it is 0. Vant's `safe-area-inset-bottom` (popups, action sheets) pads by it.
 */
function fillSafeArea(text: string, bottomInset: number): string {
  return text.replace(/\b(?:env|constant)\(\s*safe-area-inset-(top|right|bottom|left)\s*\)/g, (_all, side: string) => `${side === 'bottom' ? bottomInset : 0}px`);
}

/** The complete HTML of `snapshot` on `device`. */
export function screenDocument(snapshot: Snapshot, device: Device): string {
  const app = readJson<AppJson>('app.json');
  const pageJson = readJson<WindowOptions>(`${snapshot.page}.json`);
  const window = { ...app.window, ...pageJson };
  const isTab = !!app.tabBar && app.tabBar.list.some((item) => item.pagePath === snapshot.page);
  const navColor = window.navigationBarTextStyle === 'white' ? '#fff' : '#000';
  const bottomInset = isTab ? 0 : device.safeBottom;
  const fill = (text: string) => fillSafeArea(fillRpx(text, device.width), bottomInset);
  const styles = [read('wechat.css'), app.style === 'v2' ? read('wechat-v2.css') : '', fill(snapshot.css)];
  return [
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
    `<meta name="viewport" content="width=${device.width}, initial-scale=1">`,
    `<title>${escape(snapshot.title)}</title>`,
    ...styles.map((css) => `<style>${css}</style>`),
    '</head><body>',
    `<div class="wx-phone" style="width:${device.width}px;height:${device.height}px;--status-bar:${device.statusBar}px;--safe-bottom:${device.safeBottom}px">`,
    `<div class="wx-status-bar" style="background:${window.navigationBarBackgroundColor || '#fff'};color:${navColor}"><span class="wx-status-bar__time">9:41</span><span class="wx-status-bar__battery"></span></div>`,
    `<div class="wx-nav-bar" style="background:${window.navigationBarBackgroundColor || '#fff'};color:${navColor}">`,
    isTab ? '' : '<div class="wx-nav-bar__back"></div>',
    `<div class="wx-nav-bar__title">${escape(window.navigationBarTitleText || '')}</div>`,
    '<div class="wx-capsule"><div class="wx-capsule__more"></div><div class="wx-capsule__divider"></div><div class="wx-capsule__close"></div></div>',
    '</div>',
    // The page's own background comes from app.wxss (`page`); window.backgroundColor is only the pull-down area's.
    `<div class="wx-webview-frame"><wx-page class="wx-webview">${fill(snapshot.html)}</wx-page></div>`,
    tabBar(app, snapshot.page),
    device.safeBottom ? '<div class="wx-home-indicator"></div>' : '',
    '</div></body></html>',
  ].join('');
}
