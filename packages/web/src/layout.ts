import { h, on } from './dom.js';
import type { Route } from './routes.js';

type NavPage = 'list' | 'create' | 'backends' | 'webhooks' | 'key';

const NAV: Array<{ page: NavPage; href: string; label: string }> = [
  { page: 'list', href: '#/', label: 'Batches' },
  { page: 'create', href: '#/new', label: 'New batch' },
  { page: 'backends', href: '#/backends', label: 'Backends' },
  { page: 'webhooks', href: '#/webhooks', label: 'Webhooks' },
  { page: 'key', href: '#/key', label: 'API key' },
];

function navPageOf(route: Route): NavPage {
  return route.page === 'detail' || route.page === 'results' || route.page === 'openai' ? 'list' : route.page;
}

/** The page frame: a skip button, the header with navigation, and the main region pages render into. */
export function renderLayout(root: HTMLElement): { main: HTMLElement; setRoute(route: Route): void } {
  const main = h('main', { id: 'main', tabindex: -1 });
  const links = NAV.map((item) => ({ ...item, element: h('a', { href: item.href }, item.label) }));
  const skip = on(h('button', { type: 'button', class: 'skip-link' }, 'Skip to content'), 'click', () => main.focus());
  const header = h(
    'header',
    { class: 'site-header' },
    h(
      'div',
      { class: 'site-header-inner' },
      h('a', { href: '#/', class: 'brand' }, h('img', { src: '/favicon.svg', alt: '', width: 24, height: 24 }), 'batchd'),
      h('nav', { 'aria-label': 'Main' }, h('ul', {}, ...links.map((link) => h('li', {}, link.element)))),
    ),
  );
  root.replaceChildren(skip, header, main);
  return {
    main,
    setRoute(route) {
      const active = navPageOf(route);
      for (const link of links) {
        if (link.page === active) link.element.setAttribute('aria-current', 'page');
        else link.element.removeAttribute('aria-current');
      }
    },
  };
}
