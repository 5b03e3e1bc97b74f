import './styles/base.css';
import './styles/controls.css';
import './styles/batches.css';
import './styles/detail.css';
import './styles/results.css';
import './styles/webhooks.css';
import './styles/phone.css';
import { mountApiKeyPage } from './api-key-page.js';
import { mountBackendsPage } from './backends-page.js';
import { mountBatchDetailPage } from './batch-detail-page.js';
import { mountBatchListPage } from './batch-list-page.js';
import { mountCreatePage } from './create-page.js';
import { mountOpenAIBatchPage } from './openai-batch-page.js';
import { renderLayout } from './layout.js';
import { mountResultsPage } from './results-page.js';
import { href, parseRoute, type Route } from './routes.js';
import { storedApiKey } from './session.js';
import { mountWebhooksPage } from './webhooks-page.js';

const TITLES: Record<Route['page'], string> = {
  list: 'Batches',
  detail: 'Batch',
  results: 'Results',
  openai: 'OpenAI batch',
  create: 'New batch',
  backends: 'Backends',
  webhooks: 'Webhooks',
  key: 'API key',
};

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
const { main, setRoute } = renderLayout(root);
let leave: () => void = () => undefined;
let firstRender = true;

/** Shows the page the hash names; without a stored key, the key page stands in for it. */
function render(): void {
  leave();
  leave = () => undefined;
  const requested = parseRoute(location.hash);
  const route: Route = storedApiKey() === null ? { page: 'key' } : requested;
  setRoute(route);
  document.title = `${TITLES[route.page]} · batchd`;
  switch (route.page) {
    case 'list':
      leave = mountBatchListPage(main, route.status);
      break;
    case 'detail':
      leave = mountBatchDetailPage(main, route.id);
      break;
    case 'results':
      leave = mountResultsPage(main, route.id);
      break;
    case 'openai':
      leave = mountOpenAIBatchPage(main, route.id);
      break;
    case 'create':
      mountCreatePage(main);
      break;
    case 'backends':
      leave = mountBackendsPage(main);
      break;
    case 'webhooks':
      leave = mountWebhooksPage(main);
      break;
    case 'key':
      mountApiKeyPage(main, {
        required: requested.page !== 'key',
        onSaved: () => {
          if (requested.page === 'key') location.hash = href({ page: 'list', status: null });
          else render();
        },
      });
      break;
  }
  // Keyboard and screen reader users land on the new page, not on the link they left.
  if (!firstRender && route.page !== 'key') main.focus({ preventScroll: false });
  firstRender = false;
}

window.addEventListener('hashchange', render);
render();
