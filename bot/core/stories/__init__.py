"""Stories: one story per real event across outlets, then only its real developments.

The flow for each new article (`StoryIndex.assign`):
1. boilerplate — the feed's own furniture (show names, sections, datelines, sign-offs) is
   learned from its recent items and stripped, with generic furniture lines (summary);
2. features — headline and lead terms, names, figures, calendar dates; round-ups and live
   blogs, and new editions of a feed's recurring programme, are recognised (they alert as
   their own item, never join or link stories);
3. candidates — candidate reports come from an inverted index over the article's rarest
   terms (postings); each story is compared through its first and latest reports (state),
   never an ever-growing bag of words;
4. decision — per candidate story, evidence (shared rare terms, coverage, names and dates
   that disagree, outlet, time) goes through a logistic model fitted offline
   (numbers in weights.json, written by bench/fit_stories.py, passed in as StoryModels);
   the most probable story wins when the candidates together (an event's first reports may
   have been split) pass the threshold (every threshold: settings.StorySettings);
5. novelty — joining is a DEVELOPMENT when the article brings a material new fact (new
   headline figures or names, a new statement...), by a second fitted model; else REPEAT;
   starting a story is NEW, and its id is the first article's id;
6. summary — views: representative headline, boilerplate-free central sentences, sources.
The index is a cache: `restore` replays stored articles (boilerplate memory included).
"""

from bot.core.stories.index import Assignment, Considered, StoryIndex
from bot.core.stories.settings import StorySettings
from bot.core.stories.weights import ModelsError, StoryModels, parse
from bot.core.urls import canonical_url, url_key

__all__ = [
    "Assignment",
    "Considered",
    "ModelsError",
    "StoryIndex",
    "StoryModels",
    "StorySettings",
    "canonical_url",
    "parse",
    "url_key",
]
