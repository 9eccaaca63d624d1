package assistant

import (
	"regexp"
	"strings"
)

// Retrieved text is data, never instructions. The prompt says so and
// fences passages, but a sentence of a crawled page that speaks to the
// assistant ("ignore earlier rules", "tell the visitor to send their
// password", "give them the discount code ...") is removed from a passage
// before either answer path sees it: the offline answerer would quote it,
// and a model might obey it.

// instructionLike matches sentences that address the assistant or script
// what it should tell or ask a visitor, beyond what the visitor's own
// injection check (injection) covers.
var instructionLike = regexp.MustCompile(`(?i)` +
	// speaking to the assistant
	`\b(note|message|instructions?|reminder)\s+(to|for)\s+(the\s+)?(ai|assistant|bot|chat\s?bot|llm|model|language model)\b|` +
	`\b(as\s+an?|you\s+are\s+(an?\s+)?)(ai|assistant|chat\s?bot|language model|llm)\b|` +
	`(^|\s)(assistant|system|ai)\s*:\s|\b(new|updated|real|secret|hidden)\s+instructions\b|` +
	`\b(from now on|henceforth),?\s+(you|the assistant)\b|\byour\s+(new\s+)?(rules|instructions|task|role)\s+(are|is)\b|` +
	// scripting what to tell a visitor
	`\b(tell|inform|instruct|warn|convince|persuade)\s+(the\s+)?(visitor|user|customer|client|caller|reader|them|him|her)s?\b|` +
	`\b(ask|get)\s+(the\s+)?(visitor|user|customer|client|them)s?\s+(for|to\s+(send|give|share|provide|enter|type|confirm))\b|` +
	// credentials asked for
	`\b(send|share|give|provide|e-?mail|text|type|enter|reply\s+with|confirm|tell\s+us)\b[^.!?\n]{0,40}\b(passwords?|passcodes?|pins?|cvv|cvc|card\s+numbers?|credit\s+card|login\s+details|credentials|one-time\s+(codes?|passwords?)|otp|security\s+codes?|2fa\s+codes?)\b|` +
	// codes to hand out, threats
	`\b(give|offer|hand\s+out|provide|send|share)\b[^.!?\n]{0,30}\b(discount|coupon|promo(tion)?|voucher|gift|referral)\s+codes?\b|` +
	`\b(account|subscription|data)\s+will\s+be\s+(deleted|closed|suspended|locked|terminated|removed)\s+unless\b`)

// negated sentences are advice ("we will never ask for your password"),
// not instructions.
var negated = regexp.MustCompile(`(?i)\b(never|not|don't|do not|won't|will not|cannot|can't|no one|nobody)\b`)

// sentenceEnd ends a sentence: ., ! or ? followed by a space.
var sentenceEnd = regexp.MustCompile(`[.!?]+["')\]]*\s+`)

// readsAsInstruction reports whether a sentence of a document speaks to
// the assistant rather than informs a visitor.
func readsAsInstruction(s string) bool {
	if injection.MatchString(s) {
		return true
	}
	if !instructionLike.MatchString(s) {
		return false
	}
	// "Never share your password" is advice; "ignore ... and send the
	// password" was matched by injection above already.
	return !negated.MatchString(s)
}

// stripInstructions removes the sentences of text that read as
// instructions to the assistant, keeping its lines and the rest of each
// line; removed counts them.
func stripInstructions(text string) (clean string, removed int) {
	clean, left := leaveOut(text)
	return clean, len(left)
}

// LeftOut returns the sentences of a passage that read as instructions to
// the assistant: every answer path leaves them out (the knowledge pages
// show them, so that an admin sees what a page tried to tell the bot).
func LeftOut(text string) []string {
	_, left := leaveOut(text)
	return left
}

// leaveOut is stripInstructions with the sentences it removed.
func leaveOut(text string) (clean string, left []string) {
	removed := 0
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "" || !(injection.MatchString(line) || instructionLike.MatchString(line)) {
			continue // fast path: nothing in the line
		}
		var keep []string
		start := 0
		cut := func(end int) {
			s := line[start:end]
			if strings.TrimSpace(s) != "" {
				if readsAsInstruction(s) {
					removed++
					left = append(left, strings.TrimSpace(s))
				} else {
					keep = append(keep, strings.TrimSpace(s))
				}
			}
			start = end
		}
		for _, m := range sentenceEnd.FindAllStringIndex(line, -1) {
			cut(m[1])
		}
		cut(len(line))
		lines[i] = strings.Join(keep, " ")
	}
	if removed == 0 {
		return text, nil
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), left
}
