// The line editor: what a terminal user types at the prompt, echoed back as
// it is edited.
//
// The line is a byte slice with a cursor; the terminal is kept in step by
// echo alone (backspace to move left, rewriting the bytes to the right, a
// space to blank a deleted one), so it needs nothing of the terminal but
// "\b" moving the cursor one column left. ESC [ A / ESC [ B (up, down) walk
// the history of lines entered, ESC [ C / ESC [ D (right, left) move the
// cursor; ESC O x, which terminals send in application mode, means the
// same. Other escape sequences (ESC [ params final) are swallowed, so a
// stray key never reaches a command as text.
//
// A line ends at CR or LF; the LF of a CR LF pair is not a second, empty
// line. ^C discards the line, ^U erases it, backspace and DEL delete the
// byte before the cursor.

package console

import (
	"bufio"
	"io"
	"strings"
)

// Control characters the line editor handles.
const (
	keyBackspace = 0x08
	keyDelete    = 0x7F
	keyCtrlC     = 0x03
	keyCtrlU     = 0x15
	keyEscape    = 0x1B
)

// historySize bounds the lines the editor remembers.
const historySize = 100

// Editor reads lines with editing and keeps their history; the zero value
// is ready.
type Editor struct {
	history []string
	afterCR bool // the last line ended at CR: skip one LF
}

// lineState is one line being edited.
type lineState struct {
	w      io.Writer
	line   []byte
	cursor int
	recall int // index into history of the line shown; len(history) when new
	typed  string
}

// ReadLine reads one line from r, echoing it to w as it is edited.
func (e *Editor) ReadLine(r *bufio.Reader, w io.Writer) (string, error) {
	s := lineState{w: w, recall: len(e.history)}
	for {
		c, err := r.ReadByte()
		if err != nil {
			return string(s.line), err
		}
		if e.afterCR {
			e.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch {
		case c == '\r' || c == '\n':
			e.afterCR = c == '\r'
			io.WriteString(w, "\n")
			e.remember(string(s.line))
			return string(s.line), nil
		case c == keyBackspace || c == keyDelete:
			s.deleteBack()
		case c == keyCtrlU:
			s.replace("")
		case c == keyCtrlC:
			interruptsRead.Add(1)
			io.WriteString(w, "^C\n")
			return "", nil
		case c == keyEscape:
			if err := e.escape(r, &s); err != nil {
				return string(s.line), err
			}
		case c >= ' ' && c < keyDelete:
			s.insert(c)
		}
	}
}

// escape handles the rest of an escape sequence.
func (e *Editor) escape(r *bufio.Reader, s *lineState) error {
	intro, err := r.ReadByte()
	if err != nil || (intro != '[' && intro != 'O') {
		return err
	}
	final, err := r.ReadByte()
	for err == nil && (final >= '0' && final <= '9' || final == ';') {
		final, err = r.ReadByte()
	}
	if err != nil {
		return err
	}
	switch final {
	case 'A':
		s.recallLine(e.history, s.recall-1)
	case 'B':
		s.recallLine(e.history, s.recall+1)
	case 'C':
		if s.cursor < len(s.line) {
			s.w.Write(s.line[s.cursor : s.cursor+1])
			s.cursor++
		}
	case 'D':
		if s.cursor > 0 {
			io.WriteString(s.w, "\b")
			s.cursor--
		}
	}
	return nil
}

// remember adds a non-empty line to the history unless it repeats the
// last one.
func (e *Editor) remember(line string) {
	if strings.TrimSpace(line) == "" || (len(e.history) > 0 && e.history[len(e.history)-1] == line) {
		return
	}
	if len(e.history) == historySize {
		e.history = append(e.history[:0], e.history[1:]...)
	}
	e.history = append(e.history, line)
}

// recallLine shows history[i], or the line being typed before recall began
// when i is one past the end; other i are ignored.
func (s *lineState) recallLine(history []string, i int) {
	if i < 0 || i > len(history) {
		return
	}
	if s.recall == len(history) {
		s.typed = string(s.line)
	}
	s.recall = i
	if i == len(history) {
		s.replace(s.typed)
		return
	}
	s.replace(history[i])
}

// replace erases the shown line and shows text instead, cursor at its end.
func (s *lineState) replace(text string) {
	s.w.Write(s.line[s.cursor:]) // to the end of the line
	io.WriteString(s.w, strings.Repeat("\b \b", len(s.line)))
	s.line = append(s.line[:0], text...)
	s.cursor = len(s.line)
	io.WriteString(s.w, text)
}

func (s *lineState) insert(c byte) {
	s.line = append(s.line, 0)
	copy(s.line[s.cursor+1:], s.line[s.cursor:])
	s.line[s.cursor] = c
	s.w.Write(s.line[s.cursor:])
	s.cursor++
	io.WriteString(s.w, strings.Repeat("\b", len(s.line)-s.cursor))
}

func (s *lineState) deleteBack() {
	if s.cursor == 0 {
		return
	}
	s.cursor--
	s.line = append(s.line[:s.cursor], s.line[s.cursor+1:]...)
	io.WriteString(s.w, "\b")
	s.w.Write(s.line[s.cursor:])
	io.WriteString(s.w, " "+strings.Repeat("\b", len(s.line)-s.cursor+1))
}
