// Meanings of ISO/IEC 7816-4 status words, printed after each response like scriptor does (one table, in smcard).

export { statusWordMeaning } from '../../smcard/sim/status-word-meaning.js';
