#!/usr/bin/env bash
# HuggingFace config.json files (traces/hf_config.c, --hf-config, Lua's
# hf_config): the parameter count of each shipped file against the model
# card's figure (tests/data/README.md), and the refusals.
source "$(dirname "$0")/lib.sh" "$1"
data=$(cd "$(dirname "$0")/../data" && pwd)

# within_1pct NAME FILE PUBLISHED: the printed count within 1% of PUBLISHED.
within_1pct() {
    local name=$1 file=$2 published=$3 count
    "$bin" model --hf-config "$file" >"$out" 2>"$errf"
    count=$(awk '/^params / { gsub(",", "", $2); print $2 }' "$out")
    if [ -n "$count" ] && awk -v c="$count" -v p="$published" \
        'BEGIN { d = (c - p) / p; exit !(d < 0.01 && d > -0.01) }'; then
        ok "$name: $count within 1% of $published"
    else
        echo "# count '$count' against $published"; not_ok "$name"
    fi
}

within_1pct "llama3-8b (llama)" "$data/llama3-8b/config.json" 8.03e9
within_1pct "mistral-7b (mistral)" "$data/mistral-7b/config.json" 7.3e9
within_1pct "mixtral-8x7b (mixtral)" "$data/mixtral-8x7b/config.json" 46.7e9
within_1pct "qwen2.5-7b (qwen2)" "$data/qwen2.5-7b/config.json" 7.61e9
within_1pct "qwen3-30b-a3b (qwen3_moe)" "$data/qwen3-30b-a3b/config.json" 30.5e9
within_1pct "deepseek-v3 (deepseek_v3)" "$data/deepseek-v3/config.json" 671e9
within_1pct "gpt2 (gpt2)" "$data/gpt2/config.json" 124e6
within_1pct "gpt-neox-20b (gpt_neox)" "$data/gpt-neox-20b/config.json" 20554567680

# the active parameters the cards state beside the totals
expect_ok "deepseek-v3: 37.6 B active (card: 37B)" '^active +37\.5[0-9]+ B per token \(top-8 of 256' \
    model --hf-config "$data/deepseek-v3/config.json"
expect_ok "mixtral: 12.9 B active (card: 12.9B)" '^active +12\.88[0-9] B per token' \
    model --hf-config "$data/mixtral-8x7b/config.json"
expect_ok "qwen3-30b-a3b: 3.3 B active (card: 3.3B)" '^active +3\.3[0-9]+ B per token' \
    model --hf-config "$data/qwen3-30b-a3b/config.json"
expect_ok "the file's folder names the model" '^model +qwen3-30b-a3b$' \
    model --hf-config "$data/qwen3-30b-a3b/config.json"
expect_ok "the catalog entry and the file agree" '^params +671,026,404,352 ' model deepseek-v3
expect_ok "shape flags change a file's model" '^layers +16$' \
    model --hf-config "$data/llama3-8b/config.json" --layers 16
expect_ok "estimate takes --hf-config" 'iteration' \
    estimate --system dgx-h100 --gpus 8 --hf-config "$data/llama3-8b/config.json" --seq 4096 \
    --tp 8 --pp 1 --mbs 1 --gbs 8

# refusals: exit 2, the cause and the place
printf '{\n  "model_type": "llama",\n  "hidden_size": 4096,,\n  "x": 1\n}\n' >"$tmp/bad.json"
expect_bad "malformed JSON names its line" 'bad\.json line 3, column [0-9]+: malformed JSON' \
    model --hf-config "$tmp/bad.json"
printf '{\n  "model_type": "llama",\n' >"$tmp/cut.json"
expect_bad "a file cut short names the end" 'cut\.json line 3, column 1: malformed JSON: the text ends' \
    model --hf-config "$tmp/cut.json"
printf '{"model_type": "llama"} {}\n' >"$tmp/two.json"
expect_bad "text after the object" 'two\.json line 1, column 25: malformed config: text after' \
    model --hf-config "$tmp/two.json"
grep -v '"hidden_size"' "$data/llama3-8b/config.json" >"$tmp/nohidden.json"
expect_bad "a missing key is named" "missing required key 'hidden_size' \(model_type llama\)" \
    model --hf-config "$tmp/nohidden.json"
sed 's/"num_experts_per_tok": 8/"num_experts_per_tok": "eight"/' \
    "$data/qwen3-30b-a3b/config.json" >"$tmp/type.json"
expect_bad "a key of the wrong type is named" "key 'num_experts_per_tok' must be a whole number, not string" \
    model --hf-config "$tmp/type.json"
sed 's/"num_experts_per_tok": 8/"num_experts_per_tok": 200/' \
    "$data/qwen3-30b-a3b/config.json" >"$tmp/topk.json"
expect_bad "top-k above the experts" 'topk 200 must lie in 1 \.\. experts 128' \
    model --hf-config "$tmp/topk.json"
printf '{"model_type": "t5"}' >"$tmp/t5.json"
expect_bad "an unsupported family lists the supported" "model_type 't5' is not supported; supported: llama" \
    model --hf-config "$tmp/t5.json"
expect_bad "a missing file" 'nothere\.json: cannot open' model --hf-config "$tmp/nothere.json"
expect_bad "NAME and --hf-config" 'give a model NAME or --hf-config' \
    model llama3-8b --hf-config "$data/llama3-8b/config.json"

# Lua: hf_config(path) gives the model table estimate{} and model{} take
cat >"$tmp/hf.lua" <<LUA
local m = hf_config("$data/deepseek-v3/config.json")
print(m.name, m.experts, m.topk, m.kv_lora, m.dense_layers, string.format("%.0f", m.params))
local again = model(m)
print("round trip", again.params == m.params)
LUA
expect_ok "Lua hf_config reads the file" '^deepseek-v3	256	8	512	3	671026404352$' \
    run --allow-read "$data" "$tmp/hf.lua"
expect_ok "Lua model{} round-trips the MoE keys" '^round trip	true$' \
    run --allow-read "$data" "$tmp/hf.lua"
cat >"$tmp/outside.lua" <<LUA
hf_config("$data/gpt2/config.json")
LUA
"$bin" run "$tmp/outside.lua" >"$out" 2>"$errf"
if [ $? -ne 0 ] && grep -q "outside the folders a scenario may read" "$errf"; then
    ok "Lua hf_config stays inside the sandbox"
else not_ok "Lua hf_config stays inside the sandbox"; fi

tap_finish
