"""Phrase bank of the synthetic corpus: how customers talk about each theme.

Every theme has templates per polarity (``negative`` / ``neutral`` /
``positive``); a template is one sentence whose ``{slot}`` parts are filled from
:data:`SLOTS` (slots may nest), so each theme and polarity yields hundreds of
distinct, natural sentences rather than one fixed line. Negated forms sit under
the polarity they express ("never had a billing problem" is a positive sentence
about billing errors). Chatter sentences carry no theme.

Templates end with ``.``, ``!`` or ``?`` so a sentence splitter recovers them;
the first letter is capitalised after filling, so a template may start with a slot.
"""
from __future__ import annotations

# theme name -> parent (the default codeframe uses the same names)
THEME_PARENTS: dict[str, str] = {
    "billing errors": "Billing & pricing",
    "price increase": "Billing & pricing",
    "value for money": "Billing & pricing",
    "slow support": "Support",
    "friendly staff": "Support",
    "app crashes": "Product quality",
    "performance": "Product quality",
    "login problems": "Product quality",
    "onboarding confusion": "Usability",
    "ease of use": "Usability",
    "missing feature": "Features",
    "data export": "Features",
    "delivery delays": "Account & delivery",
    "cancellation difficulty": "Account & delivery",
}

SLOTS: dict[str, tuple[str, ...]] = {
    # shared
    "time": ("last month", "this week", "again", "twice this month", "for the third time", "since the last update",
             "yesterday", "over the past few weeks", "on Monday", "last weekend", "this morning"),
    "intens": ("really", "very", "extremely", "so", "incredibly", "pretty", "seriously", "super", "quite"),
    "neg_adj": ("frustrating", "annoying", "unacceptable", "ridiculous", "a joke", "exhausting", "infuriating"),
    "pos_adj": ("great", "brilliant", "fantastic", "lovely", "excellent", "superb", "wonderful"),
    "app": ("the app", "your app", "the mobile app", "the iPhone app", "the Android app", "the website",
            "the web app", "the desktop app"),
    "device": ("my iPhone", "my Android phone", "my tablet", "the iPad", "my Pixel", "my laptop", "my old Samsung"),
    "wait": ("three days", "over a week", "two weeks", "48 hours", "almost a month", "five days", "ten days"),
    "freq": ("all the time", "several times a day", "constantly", "every other day", "at least once a day",
             "every single time"),
    "month": ("January", "March", "April", "June", "September", "November", "last month"),
    "competitor": ("the competition", "other apps", "my old provider", "the alternatives", "similar services"),
    # billing errors
    "charge": ("I was charged twice", "I got billed twice", "they took the payment twice", "I was overcharged",
               "my invoice showed the wrong amount", "I was charged for a plan I never ordered",
               "I was billed after I had cancelled", "a payment was taken on the wrong date"),
    "wrong_amount": ("double the usual amount", "three times the normal price", "40 dollars extra",
                     "the annual price instead of the monthly one", "for two accounts instead of one"),
    "years": ("three years", "all this time", "five years", "the two years I've been here", "ages"),
    # price increase
    "pct": ("10%", "15%", "20%", "a third", "almost double", "25 percent"),
    "new_price": ("$12.99", "$24.99", "$45 a month", "14 euros", "nearly 30 dollars"),
    "price_subj": ("the subscription", "my monthly fee", "the basic tier", "the price", "what I pay each month"),
    "again_adv": ("again", "for the second time this year", "this month", "without much notice"),
    # support
    "support": ("support", "customer service", "your support team", "the help desk", "the service team",
                "customer care"),
    "hold": ("45 minutes", "over an hour", "40 minutes", "an hour and a half", "half an hour"),
    "n_tickets": ("two", "three", "four", "several", "multiple"),
    "fast": ("an hour", "ten minutes", "a few minutes", "the same afternoon", "twenty minutes"),
    "fast_adv": ("the same day", "within minutes", "almost instantly", "in under an hour"),
    "staff": ("the staff member", "the agent", "the person I spoke to", "the support rep", "the lady on the phone",
              "the guy on the chat", "your colleague", "the advisor"),
    "agent_name": ("Maria", "Sam", "Priya", "Tom", "Aisha", "Jonas", "Kenji", "Lucia", "Omar"),
    "staff_verb": ("was patient with me", "explained everything clearly", "made my day", "took the time to help me",
                   "was really kind", "stayed calm and cheerful", "followed up personally"),
    # product quality
    "crash_when": ("when I open it", "on startup", "when I try to pay", "whenever I upload a photo",
                   "after the update", "on {device}", "in the middle of a task"),
    "action": ("open the settings", "try to upload a file", "switch accounts", "open my history",
               "tap the menu", "rotate my phone"),
    "lost": ("all my work", "my draft", "everything I had typed", "my progress", "an hour of edits"),
    "time_pos": ("in months", "this year", "since I switched phones", "since the spring"),
    "perf_when": ("in the evenings", "when I search", "on my old phone", "on wifi and on mobile data",
                  "after the update", "when I open big files", "at busy times"),
    "load_time": ("ages", "30 seconds", "almost a minute", "forever", "ten seconds or more", "way too long"),
    # usability
    "setup_thing": ("data import", "the settings", "sharing", "team invites", "the dashboard", "notifications"),
    "setup_time": ("an entire afternoon", "two days", "hours", "a whole week", "most of the weekend"),
    "setup_fast": ("five minutes", "no time", "ten minutes", "a coffee break"),
    "relative": ("mum", "dad", "grandmother", "teenage son", "partner", "neighbour"),
    "task": ("find my history", "change my plan", "share a file", "update my details", "set reminders",
             "add a new user"),
    # features
    "feature": ("dark mode", "offline mode", "calendar integration", "family sharing", "bulk editing",
                "Apple Watch support", "multi-currency support", "voice input"),
    "ask_time": ("months", "over a year", "ages", "two years", "since I joined"),
    "format": ("CSV", "Excel", "PDF", "JSON", "XLSX"),
    "export_obj": ("my transactions", "my history", "my reports", "my contacts", "a full backup", "my invoices"),
    # account & delivery
    "parcel": ("order", "package", "welcome kit", "replacement card", "monthly box", "device"),
    "late": ("a week", "two weeks", "ten days", "several days", "nearly a month"),
    "promised": ("two days", "next day", "three to five days", "48 hours"),
    "early": ("a day early", "the next morning", "right on time", "earlier than expected"),
    "n_calls": ("three", "four", "five", "several"),
    "buried": ("the settings", "three menus deep", "a help article", "the small print", "a page nobody can find"),
    # chatter
    "years_ago": ("two years ago", "last spring", "a few months ago", "back in 2021", "before the pandemic"),
    "hobby": ("a small bakery", "a book club", "a cycling team", "a dental practice", "a family business"),
}

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "billing errors": {
        "negative": (
            "{charge} {time}.",
            "{charge} and nobody could explain why.",
            "There was a mistake on my bill {time}.",
            "My bill was wrong {time}, {intens} {neg_adj}.",
            "The invoice had charges I didn't recognise.",
            "{charge}, and it took {wait} to get the money back.",
            "Billing is a mess, {charge}.",
            "Why was I charged twice this month?",
            "Still waiting on a refund for a double charge.",
            "The billing system keeps charging my card the wrong amount.",
            "I was billed {wrong_amount} {time}.",
            "Got an invoice for {wrong_amount} which makes no sense.",
            "Please fix your billing, {charge}!",
        ),
        "neutral": (
            "I think there may be a small error on my last invoice, can you check?",
            "There was a billing mix-up in {month} but it's sorted now.",
            "My invoice from {month} shows a line I want to ask about.",
            "Could someone confirm the amount on my latest bill?",
        ),
        "positive": (
            "I've never had a billing problem in {years}.",
            "Billing has always been accurate and on time.",
            "Never once been overcharged, the invoices are {intens} clear.",
            "My invoices are always correct, no surprises.",
            "When there was a small billing mistake it was fixed the same day.",
            "No billing errors at all, which is more than I can say for {competitor}.",
        ),
    },
    "price increase": {
        "negative": (
            "The price went up {again_adv} and I'm not happy about it.",
            "You raised the price {time} without any warning.",
            "{price_subj} has gone up by {pct} and nothing has improved.",
            "Another price hike, {intens} disappointing.",
            "The new pricing is {intens} steep for what I get.",
            "I got an email saying my subscription is going up to {new_price}, that's {neg_adj}.",
            "Prices keep going up every year.",
            "I can't justify paying {pct} more after the latest increase.",
            "Not happy that the monthly fee increased {time}.",
            "A {pct} price rise is {neg_adj}.",
        ),
        "neutral": (
            "I noticed the price changed to {new_price} {time}.",
            "When does the new price take effect?",
            "Will the price increase apply to annual plans too?",
            "Saw the email about the price going up.",
        ),
        "positive": (
            "The price went up a little but I understand why.",
            "Even after the price increase it's still {intens} reasonable.",
            "I didn't mind the small price rise, you gave plenty of notice.",
            "Glad the price increase was only {pct}, that's fair.",
        ),
    },
    "value for money": {
        "negative": (
            "It's not worth the money.",
            "{intens} overpriced for what you get.",
            "I'm paying a lot for features I never use.",
            "For the price I expected a lot more.",
            "It's poor value compared to {competitor}.",
            "There are cheaper options that do the same thing.",
            "I don't feel I get my money's worth anymore.",
            "Way too expensive for such a basic service.",
        ),
        "neutral": (
            "The price seems about right for what it does.",
            "It's okay value, nothing special.",
            "I'm comparing it with {competitor} on price.",
        ),
        "positive": (
            "Great value for money.",
            "For what I pay it's {intens} good value.",
            "Worth every penny.",
            "It's cheaper than {competitor} and does more.",
            "You get a lot for the price.",
            "Best value subscription I have, hands down.",
            "{intens} good value compared to {competitor}.",
        ),
    },
    "slow support": {
        "negative": (
            "I waited {wait} for a reply from {support}.",
            "It took {support} {wait} to answer a simple question.",
            "Not once did {support} actually answer my question.",
            "{support} NEVER replied to my emails.",
            "I've opened {n_tickets} tickets and nobody has got back to me.",
            "I was on hold for {hold} {time}.",
            "The response time is {intens} slow.",
            "Still no answer from {support} after {wait}.",
            "Getting help is {intens} slow, I gave up in the end.",
            "The chat said someone would reply within a day, it took {wait}.",
            "My ticket has been open for {wait} with no update.",
            "Why does it take {wait} to get a reply?",
        ),
        "neutral": (
            "I contacted {support} {time} about my account.",
            "I sent a ticket {time} and I'm waiting to hear back.",
            "What are your support opening hours?",
        ),
        "positive": (
            "{support} got back to me within {fast}.",
            "I had an answer in {fast}, {intens} impressive.",
            "Quick response from {support}, problem solved.",
            "Never had to wait long for help.",
            "{support} replied {fast_adv} which I really appreciated.",
        ),
    },
    "friendly staff": {
        "negative": (
            "{staff} was rude and dismissive.",
            "{staff} was not friendly at all.",
            "I felt talked down to by {staff}.",
            "{staff} hung up on me.",
            "The agents are {intens} unfriendly.",
            "{staff} was {intens} condescending.",
        ),
        "neutral": (
            "I spoke to {staff} {time}.",
            "{staff} passed me on to another department.",
            "{agent_name} from your team called me back.",
        ),
        "positive": (
            "{staff} was {intens} friendly and helpful.",
            "{staff} {staff_verb}, {intens} {pos_adj} service.",
            "Shout out to {agent_name} who {staff_verb}.",
            "Everyone I've dealt with has been {intens} kind.",
            "The team is always polite and patient with me.",
            "{staff} was lovely and sorted everything out.",
            "What a friendly bunch, thank you {agent_name}!",
            "{staff} went above and beyond.",
            "{agent_name} {staff_verb}, thank you!",
        ),
    },
    "app crashes": {
        "negative": (
            "{app} crashes {freq}.",
            "{app} keeps crashing {crash_when}.",
            "Every time I {action} {app} crashes.",
            "{app} froze and then closed itself {time}.",
            "{app} crashed {time} and I lost {lost}.",
            "Constant crashes since the last update.",
            "It crashes {freq}, {intens} {neg_adj}.",
            "{app} just shuts down {crash_when}.",
            "Crashed again.",
            "I can't use {app} because it crashes {crash_when}.",
            "Why does {app} crash {freq}?",
        ),
        "neutral": (
            "{app} crashed once {time} but it was fine after a restart.",
            "Is there a known issue with {app} crashing on {device}?",
            "I think {app} crashed {time}, not sure why.",
        ),
        "positive": (
            "{app} hasn't crashed once since the update.",
            "Rock solid, never had {app} crash on me.",
            "No crashes at all {time_pos}, {intens} stable.",
            "The crashing problem is finally fixed, thank you.",
        ),
    },
    "performance": {
        "negative": (
            "{app} is {intens} slow {perf_when}.",
            "Pages take {load_time} to load.",
            "Everything is sluggish since the update.",
            "{app} lags {perf_when}, it's {neg_adj}.",
            "Loading my dashboard takes {load_time}.",
            "Search is painfully slow.",
            "The sync takes forever.",
            "It drains my battery and runs hot on {device}.",
            "{app} has become so laggy I barely use it.",
        ),
        "neutral": (
            "{app} seems a bit slower than before, not a big deal.",
            "Loading times are fine most of the time.",
            "Is there a way to make syncing faster?",
        ),
        "positive": (
            "{app} is fast and responsive.",
            "Loads {intens} quickly now, nice work on the speed.",
            "Performance has improved a lot since the update.",
            "Everything is snappy, even on {device}.",
        ),
    },
    "login problems": {
        "negative": (
            "I couldn't log in {time}.",
            "The password reset email never arrives.",
            "I keep getting logged out {freq}.",
            "Two-factor codes don't arrive so I'm locked out of my account.",
            "The login page just spins and never loads.",
            "I got locked out of my account {time}.",
            "It says my password is wrong even after I reset it.",
            "Signing in with my Google account doesn't work anymore.",
            "I couldn't get into my account for {wait}.",
        ),
        "neutral": (
            "I had to reset my password {time}.",
            "How do I change the email I use to log in?",
            "Can I turn on two-factor authentication?",
        ),
        "positive": (
            "Logging in with face ID is {intens} convenient.",
            "The new sign-in is much smoother, no more lockouts.",
            "Never had any trouble logging in.",
        ),
    },
    "onboarding confusion": {
        "negative": (
            "Setting up my account was {intens} confusing.",
            "The onboarding didn't explain {setup_thing} at all.",
            "I had no idea how to get started after signing up.",
            "It took me {setup_time} to figure out the setup.",
            "The setup guide skips steps and I got lost.",
            "The first week was a struggle, nothing was explained.",
            "Too many steps to get started, I nearly gave up.",
            "The welcome tutorial is confusing and too long.",
        ),
        "neutral": (
            "I'm still setting up my account.",
            "Is there a guide for new users?",
            "I'm new here and still learning how {setup_thing} works.",
        ),
        "positive": (
            "Setup was {intens} easy, I was up and running in {setup_fast}.",
            "The onboarding walked me through everything.",
            "Getting started was painless.",
            "The welcome tutorial was clear and short.",
        ),
    },
    "ease of use": {
        "negative": (
            "{app} is {intens} hard to use.",
            "The menus are a maze, I can never find anything.",
            "Not intuitive at all, it takes too many clicks to {task}.",
            "The new design made it harder to {task}.",
            "It's clunky and confusing to navigate.",
        ),
        "neutral": (
            "The layout changed {time}, I'm getting used to it.",
            "It's fairly easy to use once you know where things are.",
            "Where do I go to {task}?",
        ),
        "positive": (
            "{app} is {intens} easy to use.",
            "Really intuitive, my {relative} figured it out without help.",
            "Simple, clean and easy to navigate.",
            "Everything is where you'd expect it to be.",
            "I love how simple it is to {task}.",
            "Super user friendly.",
            "It's so easy to {task} now.",
            "The interface is clean and intuitive.",
        ),
    },
    "missing feature": {
        "negative": (
            "Please add {feature}, I can't believe it's still missing.",
            "It still doesn't have {feature}.",
            "The one thing I need is {feature} and you don't offer it.",
            "Without {feature} this is useless to me.",
            "Every competitor has {feature} except you.",
            "I've been asking for {feature} for {ask_time}.",
            "Why is there no {feature}?",
            "Disappointed that {feature} was never added.",
        ),
        "neutral": (
            "It would be nice to have {feature} at some point.",
            "Are you planning to add {feature}?",
            "Any news on {feature}?",
            "A small feature request: {feature}.",
        ),
        "positive": (
            "Thanks for finally adding {feature}!",
            "The new {feature} is exactly what I needed.",
            "So glad you listened and built {feature}.",
        ),
    },
    "data export": {
        "negative": (
            "There's no way to export my data to {format}.",
            "Exporting {export_obj} is {intens} painful.",
            "The export button just gives me an empty file.",
            "I can't download {export_obj} as {format}.",
            "The {format} export is broken, half the columns are missing.",
            "Getting my data out of your system is impossible.",
            "Export times out every time I try.",
        ),
        "neutral": (
            "How do I export {export_obj}?",
            "Can I get {export_obj} as {format}?",
            "I exported my data {time} to do my own analysis.",
        ),
        "positive": (
            "The {format} export is {intens} handy.",
            "Exporting {export_obj} to {format} works perfectly.",
            "Love that I can download all my data in one click.",
        ),
    },
    "delivery delays": {
        "negative": (
            "My {parcel} arrived {late} late.",
            "Still waiting for my {parcel}, it's been {wait}.",
            "Delivery took {wait} when it said {promised}.",
            "The courier missed the delivery window {time}.",
            "My {parcel} never turned up.",
            "Shipping is {intens} slow.",
            "The tracking hasn't updated in {wait}.",
            "Delivery was delayed {time} without any notice.",
        ),
        "neutral": (
            "When will my {parcel} be shipped?",
            "Can I change the delivery address for my {parcel}?",
            "My {parcel} was delivered to a neighbour.",
        ),
        "positive": (
            "My {parcel} arrived {early}.",
            "Delivery was quick, {intens} impressed.",
            "Never had a late delivery.",
            "Fast shipping as always.",
        ),
    },
    "cancellation difficulty": {
        "negative": (
            "Cancelling my subscription is {intens} hard.",
            "I tried to cancel {time} and there's no button anywhere.",
            "You make it impossible to cancel online.",
            "I had to call {n_calls} times just to cancel.",
            "They kept trying to upsell me when I asked to cancel.",
            "Why do I have to phone to cancel when I signed up online?",
            "The cancel option is buried in {buried}.",
            "It took {wait} to close my account.",
        ),
        "neutral": (
            "How do I cancel my subscription?",
            "Can I pause instead of cancelling?",
            "Where is the option to close my account?",
        ),
        "positive": (
            "Cancelling my add-on was easy.",
            "Glad I could cancel in two clicks when I needed to.",
            "No hassle cancelling my extra plan.",
        ),
    },
}

# Sentences with no theme. Neutral chatter, plus general praise/complaint that
# carries sentiment but names no theme.
CHATTER: dict[str, tuple[str, ...]] = {
    "neutral": (
        "I've been a customer since my sister recommended you.",
        "I mostly use it on my phone.",
        "I signed up {years_ago}.",
        "Writing this on my lunch break.",
        "My partner uses it too.",
        "I found you through a podcast ad.",
        "I use it for work and for personal stuff.",
        "This is my first review.",
        "I switched from another provider {years_ago}.",
        "Just wanted to share some feedback.",
        "We run {hobby} and use this every day.",
        "I travel a lot for work.",
        "I check it every morning with my coffee.",
        "Long time user here.",
        "Quick note.",
        "Hi there.",
        "My colleague told me about you {years_ago}.",
    ),
    "positive": (
        "Overall I'm happy.",
        "Keep up the good work!",
        "Thanks!",
        "Love it.",
        "Five stars from me.",
        "Would recommend to friends.",
        "Overall a {pos_adj} experience.",
    ),
    "negative": (
        "Overall pretty disappointed.",
        "Really not happy.",
        "Would not recommend.",
        "Very frustrating experience overall.",
        "Do better.",
        "I expected more.",
    ),
}

# Optional sentence openers per polarity (the template's first letter is lowered after one).
OPENERS: dict[str, tuple[str, ...]] = {
    "negative": ("Honestly, ", "To be honest, ", "Ugh, ", "Seriously, ", "Sadly, ", "Once again, ", "Sorry but "),
    "neutral": ("Just a note: ", "Also, ", "By the way, ", "FYI, "),
    "positive": ("Honestly, ", "I have to say ", "Happy to report ", "To be fair, ", "Good news: "),
}
