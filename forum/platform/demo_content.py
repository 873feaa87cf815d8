"""What the demo community says: its fans, their conversations, the episode threads' replies,
the show news, and the bodies of the bulk posts (forum/platform/demo.py writes them).

Facts are from ../shared/show-facts.md, in the fans' own words; nothing claims what happens in
which episode except the finale's betrayal, and later episodes are mentioned only inside
spoilers tagged with them."""

from __future__ import annotations

from forum.discussion.episode_codes import key_of

FANS = [
    "ingrid_stan",
    "lawfirm_lurker",
    "murphys_law",
    "helen_wan_reader",
    "associate_ally",
    "tvdebates",
    "bingewatcher22",
    "nyc_paralegal",
]

# (board slug, title, [(author, body), ...]); the first post opens the thread.
CONVERSATIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "partner-track",
        "Will Partner Track get a season 2?",
        [
            (
                "ingrid_stan",
                "I know Netflix said no back in November 2022, but hear me out. "
                "It was in the **Top 10** within days, and it was never billed as a limited "
                "series. "
                "That ending >!S1E10: with Jeff!< *cannot* be how Ingrid's story ends.\n\n"
                "Is there any realistic path to a second season?",
            ),
            (
                "lawfirm_lurker",
                "Realistically? Variety confirmed the cancellation, so a renewal would take "
                "another platform picking it up. It has happened before, but rarely for a show "
                "that's been off the air this long.",
            ),
            (
                "murphys_law",
                "> it was never billed as a limited series\n\nThis is what hurts. "
                "Everything in the finale was set-up: >!S1E10: the partnership vote, the "
                "betrayal, Rachel's storyline!<. They clearly planned for more.",
            ),
            (
                "helen_wan_reader",
                "The novel gives you a lot of what a season 2 would have dealt "
                "with. If you haven't read Helen Wan's book, start there while we wait.",
            ),
            (
                "associate_ally",
                "Remember that Netflix's drama chief sounded hopeful about a second "
                "season before the news broke. I still think the numbers were closer than people "
                "assume.",
            ),
            (
                "demo",
                "Count me in for the revival campaign. What would you want season 2 to "
                "focus on? (I'm only at episode 6, so tag your spoilers!)\n\n1. Whatever is going "
                "on with Jeff\n2. The firm's diversity initiative, for "
                "real this time\n3. More Rachel, obviously",
            ),
            ("tvdebates", "@demo 3, always 3. Alexandra Turshen stole every scene she was in."),
            (
                "lawfirm_lurker",
                "2, but mostly I want >!S1E10: Ingrid making the firm pay for what Jeff did!<.",
            ),
            (
                "bingewatcher22",
                "Mine is simple: >!a straight answer to the question the finale leaves "
                "hanging!<. Ten episodes of build-up deserve one.",
            ),
            (
                "ingrid_stan",
                "Honestly just give us Arden Cho in a courtroom for ten more episodes. "
                "~~I would watch her read a contract~~ I *have* watched her read a contract.",
            ),
        ],
    ),
    (
        "partner-track",
        "Book vs. show: what Georgia Lee changed",
        [
            (
                "helen_wan_reader",
                "The show moves a lot faster than the book. Georgia Lee added "
                "the romance triangle up front, while the novel spends longer on the day-to-day "
                "grind at the firm. Which version of Ingrid do you prefer?",
            ),
            (
                "bingewatcher22",
                "Show Ingrid is more sure of herself. Book Ingrid's doubts felt "
                "more real to me though.",
            ),
            (
                "nyc_paralegal",
                "As someone who works at a firm: the book is *painfully* accurate "
                "about billable hours. The show is prettier.",
            ),
        ],
    ),
    (
        "partner-track",
        "Where the cast went next",
        [
            (
                "tvdebates",
                "Keeping a list of what Arden Cho, Dominic Sherwood and Alexandra "
                "Turshen have done since. Add anything I missed!",
            ),
            ("associate_ally", "Following this thread. I'd watch any of them in anything."),
            (
                "ingrid_stan",
                "Whatever Arden Cho does next, it'll be hard to top >!S1E8: the last scene of "
                "episode 8!<. I rewound it twice.",
            ),
        ],
    ),
    (
        "partner-track",
        "Petition to revive the show: sign and share",
        [
            (
                "murphys_law",
                "Fans have petitions going. Signing costs nothing, and shows like "
                "*Lucifer* and *Manifest* came back because fans made noise.",
            ),
            ("lawfirm_lurker", "Signed. Not holding my breath, but signed."),
        ],
    ),
    (
        "severance",
        "Theory thread: what is Lumon actually doing?",
        [
            ("tvdebates", "Post your best theory. No proof required, just vibes and screenshots."),
            ("bingewatcher22", "The goats. It is always the goats."),
        ],
    ),
    (
        "the-bear",
        "Best episode so far?",
        [
            (
                "nyc_paralegal",
                "I'll start: the one-take kitchen episode raised my blood pressure "
                "in the best way.",
            ),
        ],
    ),
    (
        "succession",
        "Rank the Roy siblings",
        [
            ("associate_ally", "Worst to best, go. Be honest."),
            ("murphys_law", "Connor is secretly the happiest man in the show and I stand by it."),
        ],
    ),
]


# A reply: (author, body, episode it discusses up to; None for the thread's own episode).
Reply = tuple[str, str, int | None]

# Fans' replies in each episode's official thread, by episode number. Nothing here claims what
# happens in which episode (feelings, theories and performances only), except the finale's
# betrayal; later episodes are only mentioned inside spoilers tagged with them.
EPISODE_TALK: dict[int, list[Reply]] = {
    1: [
        (
            "ingrid_stan",
            "Arden Cho owns this from her first scene. You believe right away that Ingrid has "
            "been grinding for years to get a shot at partner.",
            None,
        ),
        (
            "bingewatcher22",
            "Went in expecting *Emily in Paris* with lawyers. It is that, but with more teeth.",
            None,
        ),
        (
            "murphys_law",
            "Dominic Sherwood gets about one look in and I already don't know what to make of "
            "Jeff. Just a feeling.",
            None,
        ),
        (
            "lawfirm_lurker",
            "Finished the whole thing this weekend. All I'll say: >!keep an eye on Jeff!<.",
            None,
        ),
    ],
    2: [
        (
            "helen_wan_reader",
            "Book reader checking in: the office politics feel right. Helen Wan would recognise "
            "this firm.",
            None,
        ),
        (
            "tvdebates",
            "Rachel is the friend every associate needs. Alexandra Turshen's timing is so good.",
            None,
        ),
        (
            "bingewatcher22",
            "Came back to this thread after watching episode 9. Knowing where things go, the "
            "small moments in this one land completely differently. Not saying more!",
            key_of(1, 9),
        ),
    ],
    3: [
        (
            "murphys_law",
            "Rewatching this knowing >!S1E10: what Jeff does at the end!< makes every scene "
            "with him hurt.",
            None,
        ),
        ("ingrid_stan", "This episode's ending had me talking to my screen.", None),
        (
            "nyc_paralegal",
            "The billable-hours stress is the most realistic thing I've seen on TV. My chest "
            "actually got tight.",
            None,
        ),
        (
            "tvdebates",
            "Theory time: >!somebody at that firm is not on Ingrid's side!<. Calling it now.",
            None,
        ),
    ],
    4: [
        (
            "helen_wan_reader",
            "The romance gets a lot more room than in the book. Not complaining, just noting.",
            None,
        ),
        (
            "associate_ally",
            "The diversity-and-inclusion side of the firm is handled better than I expected "
            "from a glossy Netflix show. Being the face of an initiative is its own job.",
            None,
        ),
        (
            "lawfirm_lurker",
            "Binge shows usually sag around here. This one didn't for me.",
            None,
        ),
    ],
    5: [
        (
            "tvdebates",
            "Halfway ranking: Rachel, Ingrid, everyone else, then Jeff on probation.",
            None,
        ),
        (
            "bingewatcher22",
            "Compared it to *Younger* in my group chat and got yelled at. Same glossy office, "
            "same how-long-can-she-keep-this-up feeling. I stand by it.",
            None,
        ),
        (
            "murphys_law",
            "For those who've finished: does >!S1E8: the way episode 8 leaves Ingrid and Jeff!< "
            "change how you read this one?",
            None,
        ),
    ],
    6: [
        (
            "ingrid_stan",
            "The ending of this episode! Arden Cho did so much with just her face.",
            None,
        ),
        (
            "nyc_paralegal",
            "The late nights at the office are accurate down to the sad takeout.",
            None,
        ),
        (
            "associate_ally",
            "Anyone else feel the whole partner race tightening? Every episode turns the screw "
            "a little more.",
            None,
        ),
        (
            "helen_wan_reader",
            "Book readers know roughly where this is heading, >!though the show takes its own "
            "road to get there!<.",
            None,
        ),
    ],
    7: [
        ("tvdebates", "The competition at the firm is getting vicious and I love it.", None),
        (
            "lawfirm_lurker",
            "True to life: nobody ever tells you where you stand on partnership, so everyone "
            "reads tea leaves. The show gets that.",
            None,
        ),
        (
            "murphys_law",
            "Just rewatched and I keep thinking about >!S1E10: Jeff in the finale!<. Sorry, I "
            "have feelings.",
            None,
        ),
    ],
    8: [
        ("ingrid_stan", "My heart cannot take Ingrid and Jeff right now.", None),
        (
            "bingewatcher22",
            "Two episodes left and I don't see how they wrap this up. >!Spoiler: they don't, "
            "and then Netflix cancelled it.!<",
            None,
        ),
        (
            "associate_ally",
            "Dominic Sherwood is doing a lot of quiet work in this one.",
            None,
        ),
    ],
    9: [
        ("tvdebates", "Penultimate-episode energy: every piece is being moved into place.", None),
        ("nyc_paralegal", "Rachel deserves her own spin-off. Please.", None),
        (
            "lawfirm_lurker",
            "That ending made me hit *next episode* faster than I've ever hit anything.",
            None,
        ),
    ],
    10: [
        ("ingrid_stan", "JEFF. After everything, he betrays her? I am not okay.", None),
        (
            "murphys_law",
            "My username has never felt so cursed. I defended Jeff for nine episodes.",
            None,
        ),
        (
            "helen_wan_reader",
            "The betrayal hurts, but it also frees Ingrid to go after partner on her own terms. "
            "That's the season 2 I wanted to see.",
            None,
        ),
        (
            "tvdebates",
            "Ending a season on Ingrid finding out about Jeff and then cancelling the show "
            "should be illegal.",
            None,
        ),
        (
            "associate_ally",
            "Arden Cho's face when Ingrid realises what Jeff did. Give her all the awards.",
            None,
        ),
    ],
}

# Show news: (title, [(author, body), ...]); the first post opens the thread.
SHOW_NEWS: tuple[str, list[tuple[str, str]]] = (
    "Netflix cancels Partner Track after one season",
    [
        (
            "tvdebates",
            "Variety has confirmed it: Netflix will not make a second season of Partner Track. "
            "That's a surprise after the Top 10 run, and after Netflix's drama chief sounded "
            "hopeful about more. It was never billed as a limited series either.",
        ),
        ("ingrid_stan", "I refuse to accept this. Petition thread, anyone?"),
        (
            "helen_wan_reader",
            "Gutted. At least Helen Wan's novel is there for anyone who needs more Ingrid.",
        ),
    ],
)


BULK_BODIES = [
    "Just rewatched the finale and I still can't get over it.",
    "Hard agree. The writing in the middle episodes was **so** good.",
    "> That ending though\n\nExactly what I was thinking.",
    "Does anyone know if the soundtrack is on streaming services?",
    "Hot take: the first episode is the best one. Fight me.",
    "Adding this to my rewatch list, thanks for the recommendation!",
    "The book covers this in more detail, chapter 12 if you're curious.",
    "1. Great cast\n2. Great writing\n3. Cancelled anyway",
    # Spoilers, so thread pages pay for withholding them: an episode spoiler beyond a viewer
    # at S1E6, one before it (kept), and a generic one (shown to everyone behind a click).
    "Calling it now: >!S1E8: the partner vote goes the other way and she walks out!< You heard "
    "it here first.",
    "Still thinking about >!S1E3: the dinner scene and that phone call!< weeks later.",
    "No details, but >!the last five minutes!< are worth the whole season.",
]
