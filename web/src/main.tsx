import { render } from 'preact';
import { App } from './App';
import './i18n';
import './app.css';

render(<App />, document.getElementById('app')!);

// An entry without exports counts as CommonJS under the root package.json ("type": "commonjs"), and
// esbuild would then wrap every module of the bundle in a lazy initialiser; this keeps it one flat scope.
export {};
