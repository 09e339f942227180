/**
 * The layout checks (./layout-checks.browser.js) against screens broken on purpose, in the same
 * WeChat frame and through the same `screens.check` as every real screen: each kind of problem is
 * reported, by kind and element, and nothing else is. Without this, a check that stopped seeing
 * anything would pass every real screen just the same.
 */
import { DEVICES, screenDocument } from './document';
import { NO_PROBLEMS, type ScreensApi } from './harness';

const screens = (globalThis as unknown as { screens: ScreensApi }).screens;
const device = DEVICES[375];
const TEXT = 'font-size:14px;line-height:20px';

/** A screen of `page` (a tab page or not) showing `html`, in WeChat's frame. */
const brokenScreen = (page: string, html: string) => screenDocument({ id: 'broken', title: 'broken', page, css: '', html }, device);

const check = process.env.SCREENS_OUT || screens.skipReason ? test.skip : test;

check('on a tab page, the layout checks report a too-wide element, text cut by a narrow column, overlapping text, a half-width block button, a 20 px tap target, overlapping tap targets, something under the tab bar and a network request', async () => {
  const html = `<wx-view id="screen" style="${TEXT};padding:0 16px">
    <wx-view id="too-wide" style="width:400px;height:10px"></wx-view>
    <wx-view style="width:40px;overflow:hidden"><wx-text style="white-space:nowrap">挤在窄栏里的文字</wx-text></wx-view>
    <wx-view style="position:relative;height:40px">
      <wx-view style="position:absolute;left:0;top:0">重叠的文字甲</wx-view>
      <wx-view style="position:absolute;left:60px;top:10px">重叠的文字乙</wx-view>
    </wx-view>
    <wx-view id="small" data-tap style="width:120px;height:20px">小按钮</wx-view>
    <wx-button class="van-button--van-button--block" style="width:50%;margin:12px 0">半宽按钮</wx-button>
    <wx-image style="display:block;width:20px;height:20px;background-image:url(https://cdn.test/missing.png)"></wx-image>
    <wx-view style="position:relative;height:48px">
      <wx-view id="left" data-tap style="position:absolute;left:0;width:100px;height:48px"></wx-view>
      <wx-view id="right" data-tap style="position:absolute;left:90px;width:100px;height:48px"></wx-view>
    </wx-view>
    <wx-view id="under-tab-bar" style="position:fixed;left:0;right:0;bottom:-30px;height:50px"></wx-view>
  </wx-view>`;

  const { problems, measured } = await screens.check(brokenScreen('pages/profile/profile', html), device);

  expect(problems).toEqual({
    ...NO_PROBLEMS,
    overflow: ['the page is 416px wide on a 375px screen', '<wx-view#too-wide> [16,88 400×10] reaches past the screen (0–375)'],
    clipped: ['text "挤在窄栏里的文字" [16,98 112×20] is cut off by <wx-view> "挤在窄栏里的文字" [16,98 40×20]'],
    overlap: ['text "重叠的文字甲" overlaps "重叠的文字乙"'],
    fullWidth: ['<wx-button.van-button--van-button--block> "半宽按钮" is 171.5px wide in a 343px wide <wx-view#screen> "挤在窄栏里的文字 重叠的文字甲 重叠的文字乙 小"'],
    tapSize: ['<wx-view#small> "小按钮" is 20px tall, under 44px', 'tap targets <wx-view#left> and <wx-view#right> overlap by 48px'],
    // 812 px screen − 34 px home indicator inset − 50 px tab bar = 728.
    tabBar: ['<wx-view#under-tab-bar> is under the tab bar (down to 758, the bar starts at 728)'],
    network: ['requested https://cdn.test/missing.png'],
  });
  // The cut text counts (what shows of it), and so does every other piece of text.
  expect(measured).toEqual({ texts: 5, tapTargets: 3 });
});

check("on a page without a tab bar, the layout checks report a button and its text in the home indicator's strip", async () => {
  const html = `<wx-view style="${TEXT};padding:16px">订单详情</wx-view>
    <wx-view id="submit" data-tap style="${TEXT};position:fixed;left:16px;right:16px;bottom:0;height:48px;line-height:48px;text-align:center">提交订单</wx-view>`;

  const { problems, measured } = await screens.check(brokenScreen('pages/orders/orders', html), device);

  expect(problems).toEqual({
    ...NO_PROBLEMS,
    // The strip is the bottom 34 px of the 812 px screen.
    homeIndicator: [
      `<wx-view#submit> "提交订单" reaches down to 812, into the home indicator's strip (from 778)`,
      `text "提交订单" reaches down to 798, into the home indicator's strip (from 778)`,
    ],
  });
  expect(measured).toEqual({ texts: 2, tapTargets: 1 });
});
