import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { openClientEarly } from './api/client';
import { guardFileDrops } from './components/dropGuard';
import { askFirstMap } from './galaxy/firstMap';
import { preloadGalaxyCanvas } from './galaxy/GalaxyView';
import './styles/theme.css';
import './styles/layout.css';

// The start's slow parts begin before the first render, so they overlap it: the API socket,
// the map the last start showed first, the 3D code.
openClientEarly();
askFirstMap();
preloadGalaxyCanvas();
guardFileDrops();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
