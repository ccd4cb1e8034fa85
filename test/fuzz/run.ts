/**
 * `npm run fuzz [-- --runs N --seed S]`: every parser gets N generated inputs (default 100,000).
 * Exit 1 with fast-check's counterexample on the first failure.
 */
import { fuzzAll } from './targets.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 100_000);
const seedText = opt('--seed');
const rssBefore = process.memoryUsage().rss;
fuzzAll(runs, seedText === undefined ? undefined : Number(seedText), (line) => console.log(line));
console.log(
  `done: RSS ${Math.round(rssBefore / 1048576)} -> ${Math.round(process.memoryUsage().rss / 1048576)} MB`,
);
