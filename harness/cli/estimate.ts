// `sdgrade estimate`: the back-of-the-envelope tables. Loads only harness/estimate (fast).
import { chapterList } from '../core/chapter-list.ts';
import { renderEstimate } from '../estimate/render-estimate.ts';

export async function cmdEstimate(topic: string | undefined): Promise<number> {
  // A chapter number stands for its slug, as in the other commands (`estimate 09`).
  const slug =
    topic && /^\d{2}$/.test(topic) ? chapterList.find((c) => c.slug.startsWith(`${topic}-`))?.slug : undefined;
  console.log(renderEstimate(slug ?? topic));
  return 0;
}
