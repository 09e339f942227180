/**
 * The cases of the list-load behaviour (miniprogram/behaviors/list-load.ts), run on each page that
 * uses it (list-load.<page>.test.ts: simulate loads one page per test file): the same cycle must
 * hold on each, since a page only says how it fetches.
 */
import { deferred, type FakeOutcome } from '../../support/fake-wx';
import { makeUser, platform } from '../support/platform';
import { exists, mount, select, tapButton, textOf, tick, waitFor, type Rendered } from '../support/render';

interface ListPage {
  onLoad(): Promise<void>;
  onPullDownRefresh(): Promise<void>;
  onRetry(): Promise<void>;
}


export interface PageCase {
  name: string;
  /** What load() answered for the page. */
  id: string;
  path: string;
  /** The page's failure state. */
  error: string;
  roles: string[];
  /** The route's answer with one item titled `title`. */
  answer(title: string): FakeOutcome;
}

/** The page's route answers each request with the next outcome its test releases. */
function answersByHand(path: string) {
  const pending: ReturnType<typeof deferred<FakeOutcome>>[] = [];
  platform().fake.route(path, () => {
    const answer = deferred<FakeOutcome>();
    pending.push(answer);
    return answer.promise;
  });
  return pending;
}

async function openPage(c: PageCase): Promise<{ page: Rendered; instance: ListPage }> {
  platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', roles: c.roles });
  await platform().auth.login();
  const page = mount(c.id);
  const instance = page.instance as unknown as ListPage;
  void instance.onLoad();
  return { page, instance };
}

export function listLoadCases(c: PageCase): void {
  describe(`the list-load behaviour on ${c.name}`, () => {
    test('a pull-down refresh keeps the list on screen while it loads, then shows the new list and stops the indicator once', async () => {
      const answers = answersByHand(c.path);
      const { page, instance } = await openPage(c);
      await waitFor(() => expect(answers).toHaveLength(1));
      answers[0].resolve(c.answer('第一版'));
      await waitFor(() => expect(textOf(page)).toContain('第一版'));

      const refreshed = instance.onPullDownRefresh();
      await waitFor(() => expect(answers).toHaveLength(2));
      expect(page.instance.data.status).toBe('ready');
      expect(textOf(page)).toContain('第一版');
      expect(textOf(page)).not.toContain('加载中…');
      expect(platform().stopPullDownRefresh).not.toHaveBeenCalled();

      answers[1].resolve(c.answer('第二版'));
      await refreshed;
      await waitFor(() => expect(textOf(page)).toContain('第二版'));
      expect(platform().stopPullDownRefresh).toHaveBeenCalledTimes(1);
      expect(platform().fake.sentTo(c.path)).toHaveLength(2);
    });

    test('an older answer arriving after a newer one is dropped, a success as well as a failure', async () => {
      const answers = answersByHand(c.path);
      const { page, instance } = await openPage(c);
      await waitFor(() => expect(answers).toHaveLength(1));

      void instance.onRetry();
      await waitFor(() => expect(answers).toHaveLength(2));
      answers[1].resolve(c.answer('新的列表'));
      await waitFor(() => expect(textOf(page)).toContain('新的列表'));

      answers[0].resolve(c.answer('旧的列表'));
      await tick();
      await tick();
      expect(textOf(page)).toContain('新的列表');
      expect(textOf(page)).not.toContain('旧的列表');

      // A late failure of a superseded load says nothing either.
      void instance.onRetry();
      void instance.onRetry();
      await waitFor(() => expect(answers).toHaveLength(4));
      answers[3].resolve(c.answer('最新的列表'));
      await waitFor(() => expect(textOf(page)).toContain('最新的列表'));
      answers[2].resolve({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } });
      await tick();
      await tick();
      expect(page.instance.data.status).toBe('ready');
      expect(exists(page, c.error)).toBe(false);
    });

    test('a failure to connect shows the network picture and 重新加载, which loads once more and shows the list', async () => {
      platform().fake.route(c.path, () => ({ fail: 'request:fail network is down' }));
      const { page } = await openPage(c);
      await waitFor(() => expect(page.instance.data.status).toBe('error'));
      expect(textOf(select(page, c.error))).toContain('网络不可用');
      expect(page.instance.data.errorImage).toBe('network');
      const sentBefore = platform().fake.sentTo(c.path).length;

      platform().fake.route(c.path, () => c.answer('重新加载后的列表'));
      tapButton(page, '#retry');

      await waitFor(() => expect(textOf(page)).toContain('重新加载后的列表'));
      expect(platform().fake.sentTo(c.path)).toHaveLength(sentBefore + 1);
    });

    test('a refresh after a failure shows the loading state, not the stale failure', async () => {
      platform().fake.route(c.path, () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
      const { page, instance } = await openPage(c);
      await waitFor(() => expect(page.instance.data.status).toBe('error'));
      await waitFor(() => expect(textOf(select(page, c.error))).toContain('服务器繁忙'));
      expect(page.instance.data.errorImage).toBe('error');

      const answers = answersByHand(c.path);
      void instance.onPullDownRefresh();
      await waitFor(() => expect(answers).toHaveLength(1));
      expect(textOf(page)).toContain('加载中…');
      expect(exists(page, c.error)).toBe(false);
    });

    test('a load cancelled by a logout (while it waited for a login) says nothing', async () => {
      platform().server.user = makeUser({ roles: c.roles });
      platform().fake.route('/auth/login', () => 'hang');
      const page = mount(c.id);
      void (page.instance as unknown as ListPage).onLoad();
      await waitFor(() => expect(platform().fake.sentTo('/auth/login')).toHaveLength(1));

      await platform().auth.logout();
      await tick();
      await tick();

      expect(page.instance.data.status).toBe('loading');
      expect(page.instance.data.errorMessage).toBe('');
      expect(exists(page, c.error)).toBe(false);
      expect(platform().fake.sentTo(c.path)).toHaveLength(0);
    });
  });
}
