// Loads the UI's WebAssembly module (an external file: the content security policy forbids
// inline scripts).
import init from './tradeseal_ui.js';

init();
