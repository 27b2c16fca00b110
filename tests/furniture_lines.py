"""Furniture lines outlets wrap around news: shared by the furniture and summary tests."""

FURNITURE = [
    "Dear reader,",
    "Please consider making a recurring contribution to The Harbour Times.",
    "Your recurring monthly financial contributions help us innovate.",
    "Subscribe to Google News",
    "Subscribe to our Newsletter and never miss a story.",
    "Follow us everywhere and at any time.",
    "Follow our Twitter and Facebook pages for more news.",
    "Accessibility links",
    "Breaking News",
    "  • 16x9 Image",
    "Get the Morning Brief newsletter in your inbox.",
    "Read our stories in the app on the App Store or Google Play.",
    "YOU MAY ALSO LIKE: Storm season is back. Read the full story.",
    "With reporting by AFP and Reuters",
    "Our journalists report the news in 30 languages where a free press is banned.",
    "We believe that information should not be behind a paid wall.",
    "SIGN UP for the evening edition",
    "Skip to main content",
    "Download our app for alerts",
    "Related: Harbour strike ends after pay deal",
    "© 2026 The Harbour Times. All Rights Reserved.",
    "Click here to watch the briefing",
    "Consider a donation to keep us going",
    "CLİCK HERE to watch the briefing",  # a Turkish capital İ: case aside, as for "click"
]
