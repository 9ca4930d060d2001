#!/usr/bin/env bash
# Regenerates prompts/<language>/*.wav (8 kHz, mono, 16-bit PCM WAV) with espeak-ng and sox.
# Reproducible: fixed voice, speed and pitch; sox writes no date into the file. Commit the output.
#   bash scripts/make-prompts.sh            # all languages
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "espeak-ng is required (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox is required (apt-get install sox)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # language voice name text
  local lang=$1 voice=$2 name=$3 text=$4
  mkdir -p "prompts/$lang"
  espeak-ng -v "$voice" -s 150 -p 50 -w "$tmp/raw.wav" "$text"
  # 8 kHz mono 16-bit, 0.2 s of silence before and 0.3 s after, normalised to -3 dBFS
  sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "prompts/$lang/$name.wav" \
      pad 0.2 0.3 norm -3 rate -v 8000
  echo "prompts/$lang/$name.wav"
}

say en en-us enter_pap   "Please enter your PAP, followed by the hash key."
say en en-us incorrect   "Incorrect. Please try again."
say en en-us not_possible "Authentication is not possible at the moment. Goodbye."
say en en-us success     "Authentication successful. Your phone will now be configured. Goodbye."
say en en-us goodbye     "Goodbye."

say de de enter_pap    "Bitte geben Sie Ihre PAP ein, gefolgt von der Rautetaste."
say de de incorrect    "Falsch. Bitte versuchen Sie es noch einmal."
say de de not_possible "Eine Authentifizierung ist zurzeit nicht möglich. Auf Wiederhören."
say de de success      "Authentifizierung erfolgreich. Ihr Telefon wird jetzt eingerichtet. Auf Wiederhören."
say de de goodbye      "Auf Wiederhören."
