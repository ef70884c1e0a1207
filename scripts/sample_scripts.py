# ruff: noqa: E501  (one scripted utterance per line reads better than wrapped text)
"""The scripted calls rendered by ``make_sample_calls.py``.

Line syntax (one utterance a line):

* ``R: text`` / ``C: text`` — rep / customer; starts ``DEFAULT_GAP`` seconds after the floor ends
  (the floor = the latest end of any placed utterance).
* ``R+1.5: text`` — starts 1.5 s after the floor ends (a longer pause).
* ``C-0.8: text`` — starts 0.8 s *before* the floor ends (overtalk / interruption).
* ``C@0.4: text`` — an interjection starting 40 % into the previous main utterance; it does not
  move the floor (backchannels such as "mm hmm" inside a monologue).

Markup inside the text:

* ``{tracker:words}`` plants a tracker phrase (trackers: pricing, competitors, objections,
  next_steps); its exact time goes to ``planted`` in the truth file.
* ``<<words|due|owner>>`` marks an action item (``due`` and ``owner`` optional; the owner defaults
  to the speaker's role).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CALLS", "CallScript"]


@dataclass(frozen=True)
class CallScript:
    call_id: str
    title: str
    kind: str
    rep: str
    customer: str
    date: str
    rep_voice: tuple[str, int, int]  # espeak-ng voice, pitch, speed (wpm)
    customer_voice: tuple[str, int, int]
    lines: str


MALE_US = ("en-us+m3", 38, 165)
FEMALE_GB = ("en-gb+f3", 72, 150)
FEMALE_US = ("en-us+f2", 68, 160)
MALE_GB = ("en-gb-x-rp+m1", 30, 150)

DISCOVERY = """
R: Hi Priya, thanks for making time today. This is Jordan from Brightline.
C: Hi Jordan, happy to chat. I have about thirty minutes.
R: Perfect. To start, how does your team review sales calls today?
C: Honestly, uh, mostly by hand. Managers listen to a few recordings each week, but they never get through more than five percent of them.
R: Got it. And what happens when a deal slips? How do you find out why?
C: Usually we find out too late. A rep says the customer went quiet, and we only learn afterwards that {competitors:Gong} or another vendor was in the deal.
R: That sounds painful. How many reps are on the team right now?
C: Forty two reps across two regions, plus six managers.
R: And what would success look like for you in the next quarter?
C: I want managers to coach on real moments, not on gut feeling. If a rep talks for eighty percent of a discovery call, I want to see that.
R: Makes sense. Who else is involved in a decision like this?
C+1.4: Our VP of sales signs off, and procurement gets involved for anything above fifty thousand a year.
C: To be honest, {objections:budget is tight} this year, so I need a strong case.
R: Understood. Is there a timeline you are working toward?
C: We plan our tools in January, so ideally something before then.
R: Great. What I suggest as a {next_steps:next step} is a short demo with your managers. <<Let's schedule the demo for next Tuesday|next Tuesday|rep>>.
C: That works. <<I'll invite our two regional managers|next Tuesday>>.
R: Wonderful. <<I'll send a calendar invite and a short agenda today|today>>. Anything else I should prepare?
C: Maybe some numbers on what it costs, just a rough range.
R: Of course, I will bring a rough {pricing:price} range to the demo. Thanks Priya, talk soon.
C: Thanks Jordan, bye.
"""

DEMO = """
R: Thanks everyone for joining. Today I will show you how Brightline turns your recorded calls into coaching moments.
C: Great, we are all here. Go ahead.
R: First, the call library. Every call is transcribed and split by speaker, so you see exactly who said what and when.
C: Does it work with our phone system? We record everything in stereo.
R: Yes. Stereo recordings are the best case, because each channel is one person, so the split is exact.
C: Good. What do managers see first?
R: A scorecard per call. Talk ratio, longest monologue, questions asked, and how often people interrupt each other.
C: How is talk ratio calculated? Our old tool gave numbers that never added up.
R: Great question. It is each speaker's talk time divided by the total talk time, so the shares always add up to one hundred percent.
C: That is better than what we had with {competitors:Chorus}.
R: Next, trackers. You define phrases like {pricing:discount} or {competitors:Salesloft}, and we show where they come up in each call.
C: Can we track our own product names?
R: Absolutely. Any phrase, with simple variations.
C: I am a bit {objections:concerned about the setup time}. Our admins are already stretched.
R: Setup usually takes one afternoon. We connect to your recording storage and the rest is automatic.
C: And the reports, can I share them with leadership?
R: Yes, every report is a standalone page you can send by email.
C+1.2: Okay. This looks useful. What would you need from us to run a pilot?
R: Just a sample of fifty calls and a list of your reps. <<I'll send you a pilot checklist by Friday|Friday|rep>>.
C: Great. <<We will pick the fifty calls next week|next week>>.
R: Perfect. Then {next_steps:let's set up a follow up} call to review the pilot results.
C: Sounds good. Thank you.
"""

PRICING = """
R: Hi Tom, thanks for coming back to us. I know you wanted to talk about numbers today.
C: Yes. The team liked the pilot, but the {pricing:pricing} is the big question now.
R: Understood. Our list price is {pricing:forty dollars per seat} per month, billed annually.
C: {pricing:Forty dollars} a seat is more than we expected. {objections:That is too expensive} for sixty seats.
R: I hear you. What number did you have in mind?
C: Honestly, {competitors:Outreach} quoted us closer to thirty dollars.
R: That is fair to raise. Keep in mind the price includes coaching dashboards and unlimited trackers, which they charge extra for.
C: Maybe, but my CFO will only look at the per seat number.
R+1.5: Here is what I can do. If you sign a two year agreement, I can offer a fifteen percent {pricing:discount}.
C: So that would bring it down to thirty four dollars per seat?
R: Exactly, thirty four dollars per seat per month, for sixty seats.
C: That is closer. {objections:I am not sure we can commit} to two years though.
R: Would a one year term with a ten percent discount work better for you?
C: Possibly. I need to run both options past finance.
R: Of course. <<I'll send you both quotes in writing by Friday|Friday|rep>>, so your CFO can compare them.
C: Great. And <<I will set up a call with our CFO next week|next week>>.
R: Perfect. As a {next_steps:next step}, I will hold the discount until the end of the month.
C: Thanks Jordan, that helps a lot.
R: My pleasure, Tom. Talk to you next week.
"""

SUPPORT = """
C: Hi, I have been trying to reach someone for two days. Our reports stopped updating on Monday.
R: I am sorry about that. My name is Sam, I am on the support team, and I will stay with you until we understand it.
C: Thank you. This is urgent, our managers use those reports every morning.
R: Understood. Can you tell me your account name and when you last saw a report update?
C: Account name is Northwind. The last update was Sunday evening.
R: Thank you. I can see that the data import failed on Monday morning with a permission error.
C: A permission error? We did not change anything on our side.
R: It looks like the storage credentials expired over the weekend. That would stop every import.
C: Okay, um, {objections:this is really frustrating}. Nobody warned us that they would expire.
R: You are right, we should have warned you, and I am sorry. I am escalating this to our engineering team now.
C: How long will it take to fix?
R: Once the credentials are renewed, the backlog usually catches up within two hours.
C: Who needs to renew them, us or you?
R: Your admin needs to create a new key. <<I'll send your admin step by step instructions right after this call|today|rep>>.
C: Okay. <<I will forward them to our IT lead today|today>>.
R: Great. I will also ask engineering to add an expiry warning, so this does not happen again.
C+1.3: And are we going to be charged for the days the service was down?
R: I will ask my manager about a {pricing:credit} for those days. {next_steps:I will follow up} by email tomorrow.
C: Please do. {objections:If this happens again we will look at other vendors}.
R: I completely understand. <<I'll call you tomorrow at ten to confirm everything is running|tomorrow|rep>>.
C: Alright. Thanks Sam.
R: Thank you for your patience. Talk tomorrow.
"""

RENEWAL = """
R: Hi Dana, thanks for taking the call. Your renewal is coming up at the end of next month, so I wanted to check in.
C: Sure. I will be honest with you, we are reviewing all our tools this year.
R: I appreciate that. What is driving the review?
C: Cost, mostly. Um, finance asked every team to cut ten percent. And adoption has been lower than we hoped.
R: Which teams are using it the least?
C: The inbound team barely logs in. The outbound team likes the trackers, though.
R: That is helpful. Do you know why the inbound team is not using it?
C: They say, you know, the scorecards do not match how they work. Their calls are short, and the monologue numbers look strange.
R: That makes sense. We can tune the thresholds for short calls, so a thirty second answer does not look like a monologue.
C: Maybe. But we also got an offer from {competitors:Clari}, and it bundles forecasting.
R: What did they offer you, if you can share it?
C: Roughly {pricing:twenty five dollars per seat}, including the forecasting module.
R: I see. {objections:We already use} their forecasting somewhere else, so I understand the appeal.
C: Right, and {objections:it is not a priority} to keep two tools.
R+1.6: Here is a suggestion. Let me run a short workshop with your inbound team to set up scorecards that fit their calls.
C: That could help. What about the price?
R: If adoption improves, I can propose a renewal at the same price, with the forecasting add on free for the first year.
C: That is interesting. I would need to see it in writing.
R: <<I'll send a written renewal proposal by Thursday|Thursday|rep>>. And {next_steps:let's schedule} the workshop for the week after.
C: Okay. <<I will check the inbound team calendar and reply by Wednesday|Wednesday>>.
R: Thanks Dana. I really want to make this work for you.
C: Thanks, we will see how the workshop goes.
"""

OVERTALK = """
R: Hi Chris, thanks for joining. I wanted to walk you through the new contract terms.
C: Sure, but I only have a few minutes, so let's keep this quick.
R: Of course. So, uh, the main change is the support tier, which now includes weekend coverage and a faster response time for critical issues.
C-1.2: Wait, wait, sorry, does that change the price?
R: It does, slightly. The new {pricing:price} is forty two dollars per seat.
C: Forty two? That is a big jump from last year, we were paying thirty five.
R-0.9: Right, but you also get the weekend coverage that your team asked for in the last review.
C-1.1: We asked for it, yes, but not at that price, honestly.
R: I understand. Let me explain what is included before we talk about the number.
C@0.5: Mm hmm.
R: The weekend team covers Saturday and Sunday, eight to eight, with a one hour response for critical tickets.
C-1.0: One hour? Our current contract already says four hours and you never meet it.
R-0.8: That was true in the spring, and I am sorry, but the numbers since July are much better.
C: {objections:I am not convinced}. {competitors:Gong} offered us a better deal last week.
R-0.7: Can I ask what they offered?
C: I cannot share the details. But it was lower.
R: Okay. What if we keep your current price for six months and move to the new tier after that?
C-0.6: Six months at thirty five? That could work.
R: Then <<I'll update the contract and send it over this afternoon|this afternoon|rep>>.
C: Fine. <<I will review it with legal by Monday|Monday>>.
R: Great. {next_steps:Next step} is your signature by the end of the month.
C-0.5: Okay, okay, sounds good, I have to jump, bye.
R: Thanks Chris, bye.
"""

MONOLOGUE = """
R: Hi Lena, thanks for joining. Before we dive in, can I give you a quick overview of the platform?
C: Sure, go ahead.
R+0.8: Great. So Brightline starts from your call recordings. Every call your team makes is recorded by your phone system, and we pick it up automatically from your storage. Each recording is transcribed, and because your calls are recorded in stereo, we know exactly which words the rep said and which words the customer said. From there we build a scorecard for every call. The scorecard shows the talk ratio, which is each person's share of the total talk time, the longest monologue, the number of questions each side asked, and how often people talked over each other. Managers usually start with the talk ratio, because a rep who talks for most of a discovery call is often pitching instead of listening. Then we have trackers. A tracker is a list of phrases you care about, for example {pricing:pricing} terms, competitor names like {competitors:Gong} or {competitors:Chorus}, or objections such as budget concerns. We show every place a tracker was mentioned, and we show where in the call it happened, so you can see when pricing comes up near the end of a call, which is often a buying signal. We also write a short summary of every call with the action items each side agreed to, and every sentence in the summary links back to the moment in the call it came from, so nobody has to trust a summary blindly. Finally, all of this rolls up into team dashboards, where managers can compare reps, filter by deal stage or call type, and export a report to share with leadership. Most teams are fully set up within a week, and we run a short training session for your managers in the first month.
C@0.12: Mm hmm.
C@0.33: Right.
C@0.55: Okay.
C@0.8: I see.
C+1.2: That is a lot. How long does the setup really take for a team our size?
R: For about thirty reps, usually three or four days.
C: And {pricing:what does it cost}? {pricing:Forty bucks} a seat or more?
R: It depends on the package, but most teams pay between thirty and forty five dollars per seat.
C: Okay. <<I'll share this with my director this week|this week>>.
R: Thank you. <<I'll send you a recording of this overview and the {next_steps:next steps} tomorrow|tomorrow|rep>>.
C: Perfect, thanks.
"""

CALLS: list[CallScript] = [
    CallScript(
        "call_01_discovery",
        "Discovery call with Northwind Freight",
        "discovery",
        "Jordan Lee",
        "Priya Nair",
        "2026-09-01",
        MALE_US,
        FEMALE_GB,
        DISCOVERY,
    ),
    CallScript(
        "call_02_demo",
        "Product demo for Northwind sales managers",
        "demo",
        "Jordan Lee",
        "Priya Nair",
        "2026-09-08",
        MALE_US,
        FEMALE_GB,
        DEMO,
    ),
    CallScript(
        "call_03_pricing",
        "Pricing negotiation with Harbor Retail",
        "pricing",
        "Jordan Lee",
        "Tom Becker",
        "2026-09-15",
        FEMALE_US,
        MALE_GB,
        PRICING,
    ),
    CallScript(
        "call_04_support",
        "Support escalation: reports stopped updating",
        "support",
        "Sam Ortiz",
        "Alex Morgan",
        "2026-09-22",
        MALE_GB,
        FEMALE_US,
        SUPPORT,
    ),
    CallScript(
        "call_05_renewal",
        "Renewal at risk with Summit Health",
        "renewal",
        "Jordan Lee",
        "Dana Brooks",
        "2026-10-01",
        MALE_US,
        FEMALE_GB,
        RENEWAL,
    ),
    CallScript(
        "call_06_overtalk",
        "Contract terms call with interruptions",
        "negotiation",
        "Jordan Lee",
        "Chris Hale",
        "2026-10-06",
        FEMALE_US,
        MALE_GB,
        OVERTALK,
    ),
    CallScript(
        "call_07_monologue",
        "Platform overview with a long rep monologue",
        "demo",
        "Jordan Lee",
        "Lena Fischer",
        "2026-10-13",
        MALE_US,
        FEMALE_GB,
        MONOLOGUE,
    ),
]
