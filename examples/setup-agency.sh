#!/usr/bin/env bash
# A key user's scripted setup of the example agency, one `config add-...` command at a time.
# It builds the same setup as `salesselect config import examples/setup.json`.
#
#   salesselect --db agency.db init
#   SALESSELECT_DB=agency.db examples/setup-agency.sh
#
# Then bring in the leads from HubSpot:
#   SALESSELECT_DB=agency.db salesselect import examples/leads-hubspot.csv --source HubSpot \
#     --map "Deal Name=title" --map "Associated Company=company" --map "Deal Stage=stage" \
#     --map Amount=value --map "Close Date=expected_close" --map "Deal Type=business_type"
#
# $SALESSELECT names the program (default: salesselect on PATH), e.g. "python -m salesselect_cli".
set -euo pipefail

read -r -a ss <<< "${SALESSELECT:-salesselect}"

"${ss[@]}" config set-currency EUR

# 1. Business types: the Kanban colour of each card
"${ss[@]}" config add-business-type Staffing --color blue
"${ss[@]}" config add-business-type Agencies --color '#e07b00'

# 2. Stages, in column order: shared ones, each type's own, and the two that close a deal
"${ss[@]}" config add-stage Lead --business-type Staffing --business-type Agencies
"${ss[@]}" config add-stage Introduction --business-type Staffing --business-type Agencies
"${ss[@]}" config add-stage Proposal --business-type Staffing --business-type Agencies
"${ss[@]}" config add-stage Negotiation --business-type Staffing
"${ss[@]}" config add-stage "Framework agreement" --business-type Agencies
"${ss[@]}" config add-stage "New client" --business-type Staffing --business-type Agencies --auto won
"${ss[@]}" config add-stage Lost --business-type Staffing --business-type Agencies --auto lost

# 3. Sources: where leads come from
for source in HubSpot Google LinkedIn Referral Website; do
    "${ss[@]}" config add-source "$source"
done

# 4. Remaining-days indicator: orange from 5 days before the expected close date, red from 2
"${ss[@]}" config set-indicator --orange 5 --red 2

# 5. Won and lost reasons
for reason in "Good price" "Strong candidates" "Existing relationship"; do
    "${ss[@]}" config add-reason "$reason" --status won
done
for reason in "Too expensive" "Chose a competitor" "No candidates" "Vacancy cancelled"; do
    "${ss[@]}" config add-reason "$reason" --status lost
done

"${ss[@]}" config check
