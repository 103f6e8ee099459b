import { builder } from './builder.js';
import './board.js';
import './player.js';
import './leaderboard.js';
import './action.js';
import './operators.js';

export const schema = builder.toSchema();
