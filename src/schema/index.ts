import { builder } from './builder.js';
import './player.js';
import './leaderboard.js';
import './action.js';

export const schema = builder.toSchema();
