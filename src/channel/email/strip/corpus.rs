//! The reply-stripping corpus, part one: English mails from many clients, signatures,
//! bottom-posting, forwards, and look-alikes that must stay. Each case is a mail as a client
//! sends it and the text the customer should be seen to have written. Written for Kituo (no
//! third-party mail text); grow it whenever a real mail is stripped wrongly.
//!
//! Part two (other languages) is `corpus_intl.rs`; the test at the bottom runs both and prints
//! the pass rate.

use super::strip_reply;

/// (name, mail, what the customer wrote)
pub type Case = (&'static str, &'static str, &'static str);

pub const CASES: &[Case] = &[
    (
        "gmail_top_post",
        "Thanks, that helps!\n\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com> wrote:\n\n> Your order SO-2026-0042 has shipped.\n> Tracking: EE482913057TZ\n",
        "Thanks, that helps!",
    ),
    (
        "gmail_attribution_without_blank_line",
        "Where is it now?\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com> wrote:\n> It left the warehouse.\n",
        "Where is it now?",
    ),
    (
        "gmail_wrapped_attribution_two_lines",
        "Still waiting for the refund.\n\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <\nsupport@example.com> wrote:\n\n> We sent it on Friday.\n",
        "Still waiting for the refund.",
    ),
    (
        "last_line_right_above_wrapped_attribution",
        "Thanks Baraka\n On Mar 8, 2026 9:59 AM, \"Example Shop\" <\nreply+7f1b094c@shop.example.com> wrote:\n\n\n>** Your parcel is ready for pickup\n",
        "Thanks Baraka",
    ),
    (
        "last_line_right_above_one_line_attribution",
        "Ok, I will wait.\nOn Tue, Feb 4, 2026 at 9:12 AM Kituo Support <support@example.com> wrote:\n>\n> The courier comes tomorrow.\n",
        "Ok, I will wait.",
    ),
    (
        "three_line_attribution",
        "Please send it again.\n\nOn Nov 30, 2025, at 12:47 PM, Example Shop Customer Care <\n416ffd3258d4d2fa4c85@care.shop.example.com>\nwrote:\n\nYour invoice INV-2025-0017 is attached.\n",
        "Please send it again.",
    ),
    (
        "attribution_with_name_on_second_line",
        "Got it, thank you.\n\nOn Fri, May 6, 2026 at 6:03 PM, Neema from Example Shop Support\n<support@example.com> wrote:\n\n> Your voucher code is KARIBU10.\n>\n> Neema\n",
        "Got it, thank you.",
    ),
    (
        "apple_mail_iphone",
        "Yes please deliver on Saturday\n\nSent from my iPhone\n\n> On 12 Feb 2026, at 14:03, Kituo Support <support@example.com> wrote:\n> \n> Can we deliver on Saturday?\n",
        "Yes please deliver on Saturday",
    ),
    (
        "apple_mail_desktop",
        "That address is right.\n\n> On 12 Feb 2026, at 14:03, Kituo Support <support@example.com> wrote:\n> \n> Is Plot 12, Msasani still your address?\n\n",
        "That address is right.",
    ),
    (
        "outlook_original_message",
        "Please cancel order SO-2026-0042.\n\n-----Original Message-----\nFrom: Kituo Support <support@example.com>\nSent: Monday, February 3, 2026 10:00 AM\nTo: Amina <amina@example.co.tz>\nSubject: RE: Order SO-2026-0042\n\nYour order has shipped.",
        "Please cancel order SO-2026-0042.",
    ),
    (
        "outlook_reply_message_separator",
        "The lantern arrived broken.\n\n-----Reply Message-----\n\nThank you for your order.\n",
        "The lantern arrived broken.",
    ),
    (
        "outlook_underscore_rule_and_headers",
        "Any update?\r\n\r\n________________________________\r\nFrom: Kituo Support <support@example.com>\r\nSent: Monday, February 3, 2026 10:00\r\nTo: Amina\r\nSubject: Re: Order 1001\r\n\r\nYour order has shipped.\r\n",
        "Any update?",
    ),
    (
        "outlook_rule_directly_under_reply",
        "Reply directly above the rule\n________________________________________\nFrom: Example Shop [care@shop.example.com]\nSent: Friday, 23 March 2026 5:08 p.m.\nTo: Juma K.\nSubject: [case:106] Juma K.\n\nA new comment was added.\n",
        "Reply directly above the rule",
    ),
    (
        "outlook_bold_headers_and_leftover_dashes",
        "Outlook reply with bold headers\n\n\n ------------------------------\n\n *From:* Example Shop Notifications [mailto:noreply@shop.example.com]\n *Sent:* Thursday, February 09, 2026 1:36 PM\n *To:* juma@example.co.ke\n *Subject:* Your order was updated!\n\n\n\nDear customer,\n",
        "Outlook reply with bold headers",
    ),
    (
        "outlook_headers_without_rule",
        "And another question!\nFrom: Kituo Support [mailto:support@example.com]\nSent: Monday, November 26, 2025 10:48 AM\nTo: Wanjiru\nSubject: RE: Delivery\n\nThe driver will call you.\n\n--\nKituo Support\n",
        "And another question!",
    ),
    (
        "outlook_wrapped_bold_from",
        "Hi\n\n  *From:* care@shop.example.com [mailto:\n  care@shop.example.com]\n  *Sent:* Wednesday, June 27, 2026 3:05 PM\n  *To:* baraka@example.com\n  *Subject:* Hello\n",
        "Hi",
    ),
    (
        "header_block_starting_with_date",
        "Blah, the size is wrong\n\nDate: Wed, 16 May 2026 00:15:02 -0600\nTo: care@shop.example.com\n",
        "Blah, the size is wrong",
    ),
    (
        "header_block_date_first_encoded_comma",
        "Still not delivered\nDate: Fri=2C 28 Sep 2026 10:55:48 +0000\nFrom: tickets@shop.example.com\nTo: amina@example.co.tz\nSubject: [Ticket #8] Test\n",
        "Still not delivered",
    ),
    (
        "header_block_from_and_date_only",
        "8.45am-1pm is fine\n\nFrom: care@shop.example.com\nDate: Wed, 16 May 2026 00:15:02 -0600\n\n<http://email.shop.example.com/c/dHJhY2tpbmdfY29kZT1\n>  <care@shop.example.com <mailto:care@shop.example.com> >\n",
        "8.45am-1pm is fine",
    ),
    (
        "outlook_block_after_long_reply",
        "Response\n\nThursday at 9:30 am works for the installation\nPlot 12\nMsasani Peninsula\nDar es Salaam, 0754 421 678\n\nFrom: care@shop.example.com [mailto:care@shop.example.com]\nSent: Wednesday, October 18, 2026 2:05 PM\nTo: Juma Mrisho <juma@example.co.tz>\nSubject: RE: Installation SO-2026-0110\n\nWhen can we come?\n",
        "Response\n\nThursday at 9:30 am works for the installation\nPlot 12\nMsasani Peninsula\nDar es Salaam, 0754 421 678",
    ),
    (
        "on_sent_instead_of_wrote",
        "Test reply\n\nOn 11-Apr-2026, at 6:54 PM, Kituo Support <support@example.com> sent:\n\n>\n> Your parcel is at the depot\n>\n",
        "Test reply",
    ),
    (
        "on_date_with_slashes_name_only",
        "Great, thanks\n\nOn 04/19/2026 07:10 AM, Neema wrote:\n\n>\n> Your refund is done.\n>\n> Neema\n",
        "Great, thanks",
    ),
    (
        "android_dashed_wrote",
        "Ok see you then\n\n---- Kituo Support wrote ----\n\n> The technician comes at 10.\n> Regards\n",
        "Ok see you then",
    ),
    (
        "dashed_on_wrote_with_indented_history",
        "I will pick it up myself.\n\n------On 12/29/2025 17:32 PM, Kituo Support wrote-----\n\nYour parcel is at the Kariakoo pickup point.\n    \n",
        "I will pick it up myself.",
    ),
    (
        "polymail_four_lines",
        "Test reply from Polymail\n\nOn Tue, Apr 11, 2026 at 10:07 PM Kituo Support\n\n<\nmailto:Kituo Support <support@example.com>\n> wrote:\nYour order was confirmed.\n",
        "Test reply from Polymail",
    ),
    (
        "samsung_sent_from_glued_to_attribution",
        "Yes that one\n\nSent from Samsung MobileKituo Support <support@example.com> wrote:\n\n>\n> Which lantern did you mean?\n",
        "Yes that one",
    ),
    (
        "reply_and_attribution_share_a_line",
        "ok thanks On Wed, Apr 4, 2026 at 3:59 PM, support@example.com wrote:\n> Your order shipped",
        "ok thanks",
    ),
    (
        "reply_and_dashed_attribution_share_a_line",
        "noted--- On Wed, Apr 4, 2026 at 3:59 PM, support@example.com wrote:\n> Hi",
        "noted",
    ),
    (
        "date_first_gmail_wrapped",
        "The blue one please\n\n2026-10-17 11:28 GMT+03:00 Example Shop <\ncare@shop.example.com>:\n\n> Which colour would you like?\n>\n",
        "The blue one please",
    ),
    (
        "date_first_slashes_without_colon",
        "Replying ok\n2026/4/7 Neema Mushi <support@example.com>\n\n>  Your invoice is attached\n",
        "Replying ok",
    ),
    (
        "unquoted_history_with_nested_attribution",
        "Btw the courier never called...\n\nOn Tue, Jan 27, 2026 at 12:42 PM -0800, \"Example Shop\" <care@shop.example.com> wrote:\n\nHi Juma,\nIs the address right?\nThanks, Neema\n\nOn Jan 27, 2026, at 11:55 AM, Juma <juma@example.co.tz> wrote:\n\nWhere is my order?\nJuma\n\nSent from Acompli\n",
        "Btw the courier never called...",
    ),
    (
        "bottom_post_after_attribution",
        "On 04/19/2026 07:10 AM, Kituo Support wrote:\n\n>\n> Is the address still right?\nYes, still the same address",
        "Yes, still the same address",
    ),
    (
        "bottom_post_greeting_then_quote_then_answer",
        "Hi,\nOn Tue, 2026-03-01 at 18:02 +0300, Kituo Support wrote:\n> Which size do you need?\n> We have M and L.\n\nL please, and two of them.\n\nThank you",
        "Hi,\n\nL please, and two of them.\n\nThank you",
    ),
    (
        "reply_wraps_quotation",
        "Test reply\n\nOn 04/19/2026 07:10 AM, Kituo Support wrote:\n\n>\n> Test\n\nRegards, Amina",
        "Test reply\n\nRegards, Amina",
    ),
    (
        "reply_wraps_nested_quotation",
        "Test reply\nOn 04/19/2026 07:10 AM, Kituo Support wrote:\n\n>Test test\n>On 04/18/2026 07:10 AM, Amina wrote:\n>\n>>\n>> Where is it?\n>>\n>> Amina\n\nRegards, Amina",
        "Test reply\n\nRegards, Amina",
    ),
    (
        "bottom_post_without_attribution",
        "> Is your address still Plot 12, Msasani?\n> Reply to confirm.\n\nYes, that is my address.",
        "Yes, that is my address.",
    ),
    (
        "trailing_quote_without_attribution",
        "Yes, that is my address.\n\n> Is your address still Plot 12, Msasani?\n> Reply to confirm.\n\n",
        "Yes, that is my address.",
    ),
    (
        "interleaved_answers_stay",
        "> Which order?\n1001\n> And your email?\namina@example.co.tz",
        "> Which order?\n1001\n> And your email?\namina@example.co.tz",
    ),
    (
        "quote_link_residue_inside_block",
        "Blah\n\nOn Thursday, October 25, 2026 at 3:03 PM, Example Shop on Juma wrote:\n\n>\n> Post a response by replying to this email\n>\n (http://shop.example.com/c/YzOTYzMmE) >\n> Example Shop (http://shop.example.com/c/YzMmE)\n>\n",
        "Blah",
    ),
    (
        "one_is_not_on",
        "Thanks, this is really helpful.\n\nOne outstanding question I had:\n\nLocally (on my phone), when I open the link nothing happens.\n\nOn Oct 1, 2026, at 11:55 PM, Kituo Support wrote:\n\n> Open the link in the mail.\n",
        "Thanks, this is really helpful.\n\nOne outstanding question I had:\n\nLocally (on my phone), when I open the link nothing happens.",
    ),
    (
        "sentence_starting_with_on_is_kept",
        "On your side you can run the test again:\n\n    dial *150*00#\n\nThis should show the balance. If it fails, the\nline is not active.\n\nOn 9 Jan 2026, at 2:47, Kituo Support wrote:\n\n> My balance does not show\n",
        "On your side you can run the test again:\n\n    dial *150*00#\n\nThis should show the balance. If it fails, the\nline is not active.",
    ),
    ("line_starting_with_on_without_wrote", "Blah-blah-blah\nOn blah-blah-blah", "Blah-blah-blah\nOn blah-blah-blah"),
    (
        "on_monday_i_wrote_in_running_text",
        "On Monday I wrote:\nplease send the invoice again, I need to re-send it to accounts.",
        "On Monday I wrote:\nplease send the invoice again, I need to re-send it to accounts.",
    ),
    (
        "quote_markers_in_an_ad_are_content",
        "Visit us now for assistance...\n>>> >>>  http://www.shop.example.com <<<\nVisit our site by clicking the link above",
        "Visit us now for assistance...\n>>> >>>  http://www.shop.example.com <<<\nVisit our site by clicking the link above",
    ),
    (
        "feedback_rule_is_content",
        "Please enter your feedback below. Thank you.\n\n------------------------------------- Enter Feedback Below -------------------------------------\n\nThe delivery was fast. Please continue. I am sending payment so that\nthis line is intact.",
        "Please enter your feedback below. Thank you.\n\n------------------------------------- Enter Feedback Below -------------------------------------\n\nThe delivery was fast. Please continue. I am sending payment so that\nthis line is intact.",
    ),
    (
        "date_line_in_an_invitation_is_content",
        "Invitation for the pickup:\n\nDate: Wednesday 3, October 2026\nTime: 7 : 00am\nAddress: 130 Uhuru St\n\nPlease bring your ID.",
        "Invitation for the pickup:\n\nDate: Wednesday 3, October 2026\nTime: 7 : 00am\nAddress: 130 Uhuru St\n\nPlease bring your ID.",
    ),
    (
        "from_to_in_a_shipping_request_is_content",
        "Please ship the second box:\nFrom: Dar es Salaam\nTo: Arusha\nThanks",
        "Please ship the second box:\nFrom: Dar es Salaam\nTo: Arusha\nThanks",
    ),
    (
        "forwarded_message_kept_whole",
        "FYI\n\n---------- Forwarded message ----------\nFrom: Courier <noreply@courier.example.com>\nDate: Tue, Sep 4, 2026 at 1:35 PM\nSubject: Two\nline subject\nTo: amina@example.co.tz\n\nYour parcel could not be delivered.",
        "FYI\n\n---------- Forwarded message ----------\nFrom: Courier <noreply@courier.example.com>\nDate: Tue, Sep 4, 2026 at 1:35 PM\nSubject: Two\nline subject\nTo: amina@example.co.tz\n\nYour parcel could not be delivered.",
    ),
    (
        "apple_begin_forwarded_message_kept_whole",
        "See what the bank says\n\nBegin forwarded message:\n\n> From: Bank <alerts@bank.example.com>\n> Subject: Payment reversed\n> Date: 3 February 2026 at 10:00:00 EAT\n> To: Juma <juma@example.co.tz>\n>\n> Payment of TZS 45,000 was reversed.\n",
        "See what the bank says\n\nBegin forwarded message:\n\n> From: Bank <alerts@bank.example.com>\n> Subject: Payment reversed\n> Date: 3 February 2026 at 10:00:00 EAT\n> To: Juma <juma@example.co.tz>\n>\n> Payment of TZS 45,000 was reversed.",
    ),
    (
        "forward_inside_quoted_history_is_history",
        "Blah\n\n-----Original Message-----\n\nFYI\n\n---------- Forwarded message ----------\nFrom: care@shop.example.com\nDate: Tue, Sep 4, 2026 at 1:35 PM\nSubject: Order\nTo: amina@example.co.tz\n\nText",
        "Blah",
    ),
    (
        "sig_dash_dash_space",
        "Where is order 1001?\n\n-- \nAmina Mwakilema\nMsasani, Dar es Salaam\n+255 700 000 000",
        "Where is order 1001?",
    ),
    ("sig_dash_dash_no_space", "Where is order 1001?\n--\nAmina", "Where is order 1001?"),
    (
        "sig_correct_dashes_inside_text",
        "this is a mail with a correct -- signature.\n\n-- \nrick",
        "this is a mail with a correct -- signature.",
    ),
    ("sig_three_dashes", "Hey, my parcel is late!\n---\nJuma Mrisho\nSales, Mrisho Traders", "Hey, my parcel is late!"),
    (
        "sig_dash_name",
        "Hi folks\n\nHow do I return a solar panel that does not charge?\nI still have the box.\n\n-Abhishek Kumar\n\n\n_______________________________________________\nshop-users mailing list\nshop-users@lists.example.com\nhttp://lists.example.com/listinfo/shop-users\n",
        "Hi folks\n\nHow do I return a solar panel that does not charge?\nI still have the box.",
    ),
    ("sig_dash_space_lowercase_name", "Hey!\n\n- roman", "Hey!"),
    (
        "sig_dash_initial",
        "Oh thanks.\n\nHaving the receipt would be great.\n\n-A\n\nOn 01/03/26 7:07 PM, Kituo Support wrote:\n> We can send you a receipt.\n",
        "Oh thanks.\n\nHaving the receipt would be great.",
    ),
    ("sig_thanks_name_after_short_reply", "Hey man!\n\nThanks!\nRoman", "Hey man!"),
    ("sig_regards_name_not_first_line", "Thanks,\nBlah\n\nregards\n\nJohn Doe", "Thanks,\nBlah"),
    (
        "sig_dashes_then_thanks",
        "Hey man!\nThanks for your attention.\n--\nThanks!\nRoman",
        "Hey man!\nThanks for your attention.",
    ),
    (
        "sig_arrows_are_content",
        "Hey man!\nLook at this:\n\n--> one\n--> two\n--\nRoman",
        "Hey man!\nLook at this:\n\n--> one\n--> two",
    ),
    ("sig_iphone", "Where is my order?\n\nSent from my iPhone", "Where is my order?"),
    ("sig_blackberry", "Here is another mail\n\nSent from my BlackBerry", "Here is another mail"),
    (
        "sig_verizon_blackberry",
        "Here is another mail\n\nSent from my Verizon Wireless BlackBerry",
        "Here is another mail",
    ),
    ("sig_mailbox_for_iphone", "Blah\nSent from Mailbox for iPhone", "Blah"),
    ("sig_get_outlook_for_android", "Can I pay on delivery?\n\nGet Outlook for Android", "Can I pay on delivery?"),
    ("sig_yahoo_mail", "Is the lantern in stock?\n\nSent from Yahoo Mail on Android", "Is the lantern in stock?"),
    (
        "sent_from_my_desk_is_content",
        "Here is another mail\n\nSent from my desk, is much easier than my mobile phone.",
        "Here is another mail\n\nSent from my desk, is much easier than my mobile phone.",
    ),
    (
        "bullets_are_not_a_signature",
        "test 2 this should list second\n\nand have spaces\n\nand keep this formatting\n\n\n   - how about bullets\n   - and another\n\n\nOn Fri, Feb 24, 2026 at 10:19 AM, <news@shop.example.com> wrote:\n\n> Tell us how the lantern works for you\n\n\n\n\n-- \n\n*Joe Smith | Director, Sales*\n",
        "test 2 this should list second\n\nand have spaces\n\nand keep this formatting\n\n\n   - how about bullets\n   - and another",
    ),
    (
        "bullet_list_at_end_is_content",
        "One: what I got.\n\n- the first item wraps to the second line\nof the mail\n- the second item\n\nTwo:\n- Another point\n- And another one",
        "One: what I got.\n\n- the first item wraps to the second line\nof the mail\n- the second item\n\nTwo:\n- Another point\n- And another one",
    ),
    ("price_list_rule_is_content", "Price list:\n---\nkikoi 35", "Price list:\n---\nkikoi 35"),
    ("thanks_alone_is_kept", "Thank you\nAmina", "Thank you\nAmina"),
    (
        "long_reply_keeps_closing",
        "The lantern works now.\nI charged it for a day.\nThe light is bright.\nThe handle is fine.\nThe box was dented.\n\nThanks,\nAmina",
        "The lantern works now.\nI charged it for a day.\nThe light is bright.\nThe handle is fine.\nThe box was dented.\n\nThanks,\nAmina",
    ),
    ("only_a_quote_is_shown_whole", "> forwarded text only\n> nothing else", "> forwarded text only\n> nothing else"),
    (
        "signature_and_quote_together",
        "Thanks!\n-- \nAmina\n\nOn Mon, 3 Feb 2026, Kituo <support@example.com> wrote:\n> hi",
        "Thanks!",
    ),
    (
        "windows_line_endings",
        "Please call me.\r\n\r\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com> wrote:\r\n> We tried to call.\r\n",
        "Please call me.",
    ),
    (
        "non_breaking_spaces",
        "Asante\u{a0}sana.\n\nOn\u{a0}Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com>\u{a0}wrote:\n> Karibu.\n",
        "Asante sana.",
    ),
    (
        "zoho_original_message_spaced",
        "Kindly confirm the delivery date.\n\n---- On Tue, 22 Dec 2026 14:17:36 +0300 Kituo Support <support@example.com> wrote ----\n\nYour order is packed.\n",
        "Kindly confirm the delivery date.",
    ),
    (
        "thunderbird_name_only",
        "I prefer M-Pesa.\n\nOn 19/03/2026 11:34, Kituo Support wrote:\n> How would you like to pay?\n",
        "I prefer M-Pesa.",
    ),
    (
        "protonmail_sent_with",
        "Is the warranty two years?\n\nSent with Proton Mail secure email.\n\nOn Tuesday, February 3rd, 2026 at 10:00, Kituo Support <support@example.com> wrote:\n\n> The warranty is one year.\n",
        "Is the warranty two years?",
    ),
    (
        "yahoo_unquoted_header_block",
        "Please refund to M-Pesa.\n\n\n    On Monday, 3 February 2026, 10:00:12 EAT, Kituo Support <support@example.com> wrote:\n\n\nYour refund of TZS 45,000 is approved.\n",
        "Please refund to M-Pesa.",
    ),
    (
        "someone_via_wrote",
        "Both work for me.\n\nNeema via Example Shop <support@example.com> wrote on Tue, 3 Feb 2026 10:00:\n> Tuesday or Wednesday?\n",
        "Both work for me.",
    ),
    (
        "customer_wrote_verb_in_text_kept",
        "My brother wrote to you about order 1001 and you said it shipped, but it has not come.",
        "My brother wrote to you about order 1001 and you said it shipped, but it has not come.",
    ),
    (
        "outlook_mobile_link_and_rule",
        "Yes, Saturday is fine.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nFrom: Kituo Support <support@example.com>\nSent: Monday, February 3, 2026 10:00:00 AM\nTo: Amina <amina@example.co.tz>\nSubject: Re: Delivery\n\nCan we come on Saturday?\n",
        "Yes, Saturday is fine.",
    ),
    (
        "markdown_bold_headers_from_html",
        "Please call me back.\n\n**From:** Kituo Support <support@example.com>\n**Sent:** Monday, February 3, 2026 10:00 AM\n**To:** Amina\n**Subject:** Delivery\n\nWe tried to call.\n",
        "Please call me back.",
    ),
    (
        "old_yahoo_dashed_on_wrote",
        "I have paid now.\n\n--- On Tue, 3/2/26, Kituo Support <support@example.com> wrote:\n\nFrom: Kituo Support <support@example.com>\nSubject: Payment\n\nPlease pay the invoice.\n",
        "I have paid now.",
    ),
    (
        "hotmail_quoted_headers_under_rule",
        "Hello\n\n________________________________\n> From: support@example.com\n> To: amina@example.co.tz\n> Subject: Test\n> Date: Mon, 3 Feb 2026 10:00:00 +0300\n>\n> Your order shipped.\n",
        "Hello",
    ),
    (
        "yahoo_indented_from_under_rule",
        "Hello\n\n\n________________________________\n From: Kituo Support <support@example.com>\nTo: Amina <amina@example.co.tz>\nSent: Monday, 3 February 2026, 10:00\nSubject: Order\n\nShipped.\n",
        "Hello",
    ),
];

/// Runs a set of cases; returns the names (with what came out) of those that failed.
pub fn failures(cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|(name, mail, expected)| {
            let got = strip_reply(mail).text;
            (got != *expected).then(|| format!("{name}: got {got:?}, want {expected:?}"))
        })
        .collect()
}

#[test]
fn every_corpus_mail_shows_exactly_what_the_customer_wrote() {
    use std::io::Write;
    let all: Vec<Case> = CASES.iter().chain(super::corpus_intl::CASES).copied().collect();
    let failed = failures(&all);
    let rate = 100.0 * (all.len() - failed.len()) as f64 / all.len() as f64;
    let _ =
        writeln!(std::io::stderr(), "reply stripping: {}/{} mails ({rate:.1} %)", all.len() - failed.len(), all.len());
    assert!(failed.is_empty(), "{} of {} mails stripped wrongly:\n{}", failed.len(), all.len(), failed.join("\n"));
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().chain(super::corpus_intl::CASES).map(|c| c.0).collect();
    let total = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), total);
}

#[test]
fn removed_flag_tells_whether_anything_went() {
    assert!(strip_reply("Thanks!\n\nOn Mon, 3 Feb 2026, Kituo <support@example.com> wrote:\n> hi").removed);
    assert!(!strip_reply("Just a question about order 1001.").removed);
    assert!(!strip_reply("> only a quote").removed);
}
