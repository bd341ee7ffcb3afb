#!/bin/bash
# cfg_errors: every class of config error, through the real binary at np 2.
#
# For each case `reprodist init c.cfg -o out/keep.h5 [--set ...]` must
#   - exit with 2 (a user error), within rd_run's 60 s (nothing hangs at np 2),
#   - print the exact line "path:line: message" (or "--set TEXT: message") on
#     stderr exactly once (rank 0 alone reports; mpirun adds its own lines),
#   - print nothing on stdout and no internal error,
#   - leave the existing output file byte-identical and create no file next to it
#     (no weights, no *.tmp.*).
# A few cases also run with -o naming a file that does not exist yet: it must
# still not exist afterwards.
# Expected texts come from src/cfg.c, src/model.c, src/job.c, src/layers/ and src/cli.c; when one changes
# on purpose, change it here too.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

NP=2
cd "$RD_TMP" || exit 1
KEEP_SHA=$(printf 'precious weights\n' | sha256sum | cut -d' ' -f1)

# The smallest valid config; cases append to it. Lines 1-6.
BASE='[run]
seed = 1
[model]
input = 4
[dense]
units = 3'

# Cases run JOBS at a time (each mpirun mostly waits), each in its own directory
# cases/N with its own c.cfg, out/keep.h5 and new/; their logs are printed and
# counted in order at the end.
JOBS=4
NCASES=0

# make_config TEXT: writes c.cfg. Special TEXT: "@none" (no c.cfg), "@dir" (c.cfg
# is a directory), "@nul" (a file with a NUL byte).
make_config() {
  case "$1" in
    @none) rm -rf c.cfg ;;
    @dir) mkdir -p c.cfg ;;
    @nul) printf '[run]\nseed = 1\0\n' > c.cfg ;;
    *) printf '%s\n' "$1" > c.cfg ;;
  esac
}

# check_case MODE NAME EXPECTED TEXT [ARGS...], run inside a fresh case directory.
#   exact:  stderr holds the line EXPECTED exactly once
#   prefix: stderr holds one line starting with EXPECTED (location and value pinned,
#           wording under review)
#   noout:  -o names a file that does not exist yet; it must not exist afterwards
#   train:  exact, through `reprodist train` (the checks training makes of the model)
check_case() {
  local mode=$1 name=$2 expected=$3 text=$4 cmd=init; shift 4
  [ "$mode" = train ] && cmd=train mode=exact
  mkdir -p out new
  printf 'precious weights\n' > out/keep.h5
  make_config "$text"
  local target=out/keep.h5
  [ "$mode" = noout ] && target=new/never.h5
  rd_run "$NP" "$cmd" c.cfg -o "$target" "$@" > stdout.txt 2> stderr.txt
  local rc=$? why="" n
  [ "$rc" -eq 2 ] || why="$why exit $rc (expected 2);"
  case "$mode" in
    exact) n=$(grep -cxF -- "$expected" stderr.txt) ;;
    prefix) n=$(P=$expected awk 'index($0, ENVIRON["P"]) == 1' stderr.txt | wc -l) ;;
    noout) n=1 ;;
  esac
  [ "$n" -eq 1 ] || why="$why expected line seen $n times (expected once);"
  [ -s stdout.txt ] && why="$why stdout not empty;"
  grep -q 'internal error' stderr.txt && why="$why internal error;"
  [ "$(rd_sha out/keep.h5)" = "$KEEP_SHA" ] || why="$why existing output changed;"
  [ "$(ls -A out)" = "keep.h5" ] || why="$why files appeared next to the output: $(ls -A out | tr '\n' ' ');"
  [ -z "$(ls -A new)" ] || why="$why output created: $(ls -A new | tr '\n' ' ');"
  if [ -z "$why" ]; then
    rd_pass "$name"
  else
    rd_fail "$name:$why"
    echo "  expected ($mode): $expected"
    echo "  stderr:"; sed 's/^/    /' stderr.txt
    echo "  stdout:"; sed 's/^/    /' stdout.txt
  fi
}

schedule() {
  local dir=cases/$NCASES
  NCASES=$((NCASES + 1))
  mkdir -p "$dir"
  ( cd "$dir" && check_case "$@" > log 2>&1 ) &
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
}
expect_error() { schedule exact "$@"; }
expect_error_prefix() { schedule prefix "$@"; }
expect_train_error() { schedule train "$@"; }
expect_no_output() { local name=$1; shift; schedule noout "$name: output not created" "" "$@"; }

collect() {
  wait
  for ((i = 0; i < NCASES; i++)); do
    cat "cases/$i/log"
    RD_PASSES=$((RD_PASSES + $(grep -c '^ok: ' "cases/$i/log")))
    RD_FAILS=$((RD_FAILS + $(grep -c '^FAIL: ' "cases/$i/log")))
    # A case that printed nothing died before reporting: count it as failed.
    grep -qE '^(ok|FAIL): ' "cases/$i/log" || rd_fail "case $i reported nothing"
  done
}

# Sanity: the base config itself is fine (otherwise every case below proves nothing).
mkdir -p base && printf '%s\n' "$BASE" > base/c.cfg
if (cd base && rd_run "$NP" init c.cfg -o w.h5 > /dev/null 2> stderr.txt) && [ -s base/w.h5 ]; then
  rd_pass "base config writes weights at np $NP"
else
  rd_fail "base config must succeed"; cat base/stderr.txt
fi

# ---- structure of the file ---------------------------------------------------------
expect_error "unknown section" \
  "c.cfg:7: unknown section [bogus] (known: [run] [model] [data] [train], and the layers [dense] [conv2d] [max_pooling2d] [average_pooling2d] [global_average_pooling2d] [flatten] [reshape] [dropout] [batch_normalization] [activation] [add] [subtract] [multiply] [average] [maximum] [minimum] [concatenate] [zero_padding2d] [global_max_pooling2d] [layer_normalization] [depthwise_conv2d] [separable_conv2d] [random_flip] [random_translation] [random_crop] [random_rotation] [random_zoom] [random_contrast] [random_erasing])" "$BASE
[bogus]"
expect_error "unknown key" \
  "c.cfg:7: unknown key 'foo' in [dense]" "$BASE
foo = 1"
expect_error "key of another section" \
  "c.cfg:7: unknown key 'seed' in [dense]" "$BASE
seed = 2"
expect_error "duplicate key" \
  "c.cfg:7: duplicate key 'units' in [dense] (first set at line 6)" "$BASE
units = 4"
expect_error "duplicate section" \
  "c.cfg:7: duplicate section [run] (first at line 1)" "$BASE
[run]"
expect_error "line with no '='" \
  "c.cfg:7: expected 'key = value' or '[section]', found no '='" "$BASE
just a line"
expect_error "key outside any section" \
  "c.cfg:2: key 'seed' outside any section (add a [section] above it)" "# comment
seed = 1
$BASE"
expect_error "malformed section header" \
  "c.cfg:7: malformed section header (expected [name])" "$BASE
[dense"
expect_error "malformed key" \
  "c.cfg:7: malformed key 'Units' (lower-case letters, digits, _)" "$BASE
Units = 3"
expect_error "NUL bytes" "c.cfg: not a text file (contains NUL bytes)" @nul

# ---- bad numbers -------------------------------------------------------------------
BASE_NO_UNITS='[run]
seed = 1
[model]
input = 4
[dense]'
expect_error "int with trailing junk" \
  "c.cfg:6: units = '12abc' is not an integer" "$BASE_NO_UNITS
units = 12abc"
expect_error "int nan" \
  "c.cfg:6: units = 'nan' is not an integer" "$BASE_NO_UNITS
units = nan"
expect_error "int inf" \
  "c.cfg:6: units = 'inf' is not an integer" "$BASE_NO_UNITS
units = inf"
expect_error "int 1e999" \
  "c.cfg:6: units = '1e999' is not an integer" "$BASE_NO_UNITS
units = 1e999"
expect_error "int overflow" \
  "c.cfg:6: units = 99999999999999999999 is out of range (must be in [1, 1000000000])" "$BASE_NO_UNITS
units = 99999999999999999999"
expect_error "u64 overflow" \
  "c.cfg:2: seed = '99999999999999999999' is not an integer in [0, 2^64)" "[run]
seed = 99999999999999999999
[model]
input = 4
[dense]
units = 3"
expect_error "u64 negative" \
  "c.cfg:2: seed = '-1' is not an integer in [0, 2^64)" "[run]
seed = -1
[model]
input = 4
[dense]
units = 3"
for v in 12abc nan inf -inf 1e999 0x1p3; do
  expect_error "float '$v'" \
    "c.cfg:8: learning_rate = '$v' is not a finite decimal number" "$BASE
[train]
learning_rate = $v"
done
expect_error "empty value" "c.cfg:6: units has no value" "$BASE_NO_UNITS
units =   # nothing"

# ---- ranges and enums ----------------------------------------------------------------
expect_error "units = 0" "c.cfg:6: units = 0 is out of range (must be in [1, 1000000000])" "$BASE_NO_UNITS
units = 0"
expect_error "units = -3" "c.cfg:6: units = -3 is out of range (must be in [1, 1000000000])" "$BASE_NO_UNITS
units = -3"
expect_error "learning_rate = 0" "c.cfg:8: learning_rate = 0 is out of range (must be > 0)" "$BASE
[train]
learning_rate = 0"
expect_error "bad boolean" "c.cfg:7: use_bias = 'yes' must be true or false" "$BASE
use_bias = yes"
expect_error "unknown activation" \
  "c.cfg:7: unknown activation 'gelu' (one of: linear, relu, tanh, sigmoid, softmax)" "$BASE
activation = gelu"
expect_error "unknown initializer" \
  "c.cfg:7: unknown kernel_initializer 'xavier' (one of: zeros, ones, constant, random_uniform, random_normal, truncated_normal, variance_scaling, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal)" "$BASE
kernel_initializer = xavier"

# ---- files that are not configs ---------------------------------------------------
expect_error "missing config file" "c.cfg: cannot open config (No such file or directory)" @none
expect_error "config is a directory" "c.cfg: is a directory, not a config file" @dir

# ---- --set ---------------------------------------------------------------------------
expect_error "--set unknown key" "--set dense.foo=1: unknown key 'foo' in [dense]" "$BASE" --set dense.foo=1
expect_error "--set unknown section" \
  "--set bogus.x=1: c.cfg has no [bogus] section (--set changes the layers the file has)" "$BASE" --set bogus.x=1
expect_error "--set without '='" "--set dense.units: expected SECTION.KEY=VALUE" "$BASE" --set dense.units
expect_error "--set without section" \
  "--set units=3: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE" "$BASE" --set units=3
expect_error "--set too many parts" \
  "--set a.b.c.d=3: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE" "$BASE" --set a.b.c.d=3
expect_error "--set no such [dense]" \
  "--set dense.1.units=3: there is no [dense] number 1 (the file has 1, numbered from 0)" "$BASE" --set dense.1.units=3
expect_error "--set ambiguous [dense]" \
  "--set dense.units=3: the file has 2 [dense] sections; say which: dense.N.units" "$BASE
[dense]
units = 2" --set dense.units=3
expect_error "--set bad value" "--set dense.units=12abc: units = '12abc' is not an integer" "$BASE" --set dense.units=12abc
expect_error "--set=form bad value" "--set run.seed=-1: seed = '-1' is not an integer in [0, 2^64)" "$BASE" --set=run.seed=-1

# ---- keys that do not apply in [data] and [run] (each source reads its own keys) ---------
expect_error "samples with source = hdf5" \
  "c.cfg:9: samples does not apply to source = hdf5 (it sizes synthetic data; use limit)" "$BASE
[data]
source = hdf5
samples = 100"
expect_error "test_samples with source = idx (the default)" \
  "c.cfg:8: test_samples does not apply to source = idx (it sizes synthetic data; use test_limit)" "$BASE
[data]
test_samples = 10"
expect_error "scale with source = synthetic" \
  "c.cfg:9: scale does not apply to source = synthetic (its features are in [0, 1))" "$BASE
[data]
source = synthetic
scale = 0.5"
expect_error "train_x with source = synthetic" \
  "c.cfg:9: train_x does not apply to source = synthetic (it computes its samples)" "$BASE
[data]
source = synthetic
train_x = foo"
expect_error "limit with source = synthetic" \
  "c.cfg:9: limit does not apply to source = synthetic (set samples instead)" "$BASE
[data]
source = synthetic
limit = 5"
expect_error "keep without checkpoint_dir" \
  "--set run.keep=2: keep does not apply without [run] checkpoint_dir" "$BASE" --set run.keep=2

# ---- the model -----------------------------------------------------------------------
expect_error "parameter that does not apply" \
  "c.cfg:8: kernel_stddev does not apply to kernel_initializer = glorot_uniform" "$BASE
kernel_initializer = glorot_uniform
kernel_stddev = 0.1"
expect_error "parameter that does not apply to the default" \
  "c.cfg:7: kernel_stddev does not apply to kernel_initializer = glorot_uniform" "$BASE
kernel_stddev = 0.1"
expect_error "parameter that does not apply, via --set" \
  "--set dense.kernel_stddev=0.1: kernel_stddev does not apply to kernel_initializer = glorot_uniform" \
  "$BASE" --set dense.kernel_stddev=0.1
expect_error "bias key with use_bias = false" \
  "c.cfg:8: bias_initializer is set but use_bias = false" "$BASE
use_bias = false
bias_initializer = ones"
expect_error "duplicate layer name" \
  "c.cfg:9: layer name 'a' is used twice (also by [dense] number 0)" "$BASE
name = a
[dense]
name = a
units = 2"
expect_error "name clashes with an automatic name" \
  "c.cfg:8: layer name 'dense' is used twice (also by [dense] number 0)" "$BASE
[dense]
name = dense
units = 2"
expect_error "missing [model] input" \
  "c.cfg: missing [model] input = N, or H,W,C for images (the shape of one sample)" "[run]
seed = 1
[dense]
units = 3"
expect_error "no layer section" \
  "c.cfg: the model has no layers: add a layer section, e.g. [dense]" "[run]
seed = 1
[model]
input = 4"
expect_error "[dense] without units" "c.cfg:5: [dense] needs units = N" "$BASE_NO_UNITS
activation = relu"
expect_error "a typo of units is an unknown key" "c.cfg:6: unknown key 'unit' in [dense]" "$BASE_NO_UNITS
unit = 3"
expect_error "input shape with 4 values" \
  "c.cfg:4: input = '2,2,2,1' must be 1 to 3 integers separated by commas" "[run]
seed = 1
[model]
input = 2,2,2,1
[dense]
units = 3"
expect_error "input shape with a zero" \
  "c.cfg:4: input = 0 is out of range (must be in [1, 1000000000])" "[run]
seed = 1
[model]
input = 28,0,1
[dense]
units = 3"
expect_error "a key that does not apply to the optimizer" \
  "c.cfg:8: momentum does not apply to optimizer = adam" "$BASE
[train]
momentum = 0.9"
expect_error "an unknown kernel mode" \
  "c.cfg:8: unknown kernels 'fast' (one of: openblas, portable)" "$BASE
[train]
kernels = fast"
# Optimizers and schedules (src/optim.c, src/schedule.c, src/schedules/).
SCHEDS="exponential_decay, piecewise_constant_decay, polynomial_decay, inverse_time_decay, cosine_decay, cosine_decay_restarts"
expect_error "learning_rate names no schedule" \
  "c.cfg:8: learning_rate = 'cosine' is neither a number nor a schedule ($SCHEDS)" "$BASE
[train]
learning_rate = cosine"
expect_error "a schedule without its section" \
  "c.cfg:8: learning_rate = cosine_decay names a schedule, but the config has no [cosine_decay] section" "$BASE
[train]
learning_rate = cosine_decay"
expect_error "a schedule section learning_rate does not name" \
  "c.cfg:10: initial_learning_rate is in [cosine_decay], which is not used: [train] learning_rate = cosine_decay would use it" "$BASE
[train]
learning_rate = 0.1
[cosine_decay]
initial_learning_rate = 0.1"
expect_error "a schedule's required key missing" \
  "c.cfg:9: decay_steps is required (an integer >= 1)" "$BASE
[train]
learning_rate = cosine_decay
[cosine_decay]
initial_learning_rate = 0.1"
expect_error "piecewise values: not one more than boundaries" \
  "c.cfg:11: values has 2 rates for 2 boundaries; it needs one more than boundaries (3)" "$BASE
[train]
learning_rate = piecewise_constant_decay
[piecewise_constant_decay]
boundaries = 10, 20
values = 0.1, 0.01"
expect_error "piecewise boundaries that do not increase" \
  "c.cfg:10: boundaries must increase (10 follows 20)" "$BASE
[train]
learning_rate = piecewise_constant_decay
[piecewise_constant_decay]
boundaries = 20, 10
values = 0.1, 0.01, 0.001"
expect_error "a bad number in a list" \
  "c.cfg:11: values = '0.1, x': 'x' is not a finite decimal number" "$BASE
[train]
learning_rate = piecewise_constant_decay
[piecewise_constant_decay]
boundaries = 10
values = 0.1, x"
expect_error "warmup_steps without warmup_target" \
  "c.cfg:12: warmup_steps is set without warmup_target (Keras then ignores it)" "$BASE
[train]
learning_rate = cosine_decay
[cosine_decay]
initial_learning_rate = 0.1
decay_steps = 10
warmup_steps = 5"
expect_error "t_mul below 1" \
  "c.cfg:12: t_mul = 0.5 is out of range (must be in [1, 1000000])" "$BASE
[train]
learning_rate = cosine_decay_restarts
[cosine_decay_restarts]
initial_learning_rate = 0.1
first_decay_steps = 10
t_mul = 0.5"
expect_error "a schedule section twice" \
  "c.cfg:12: duplicate section [cosine_decay] (first at line 9)" "$BASE
[train]
learning_rate = cosine_decay
[cosine_decay]
initial_learning_rate = 0.1
decay_steps = 10
[cosine_decay]
alpha = 0.1"
expect_error "two clipping modes" \
  "c.cfg:7: only one of clipnorm, global_clipnorm and clipvalue can be set (as in Keras)" "$BASE
[train]
clipnorm = 1
clipvalue = 0.5"
expect_error "exclude_from_weight_decay without weight decay" \
  "c.cfg:10: exclude_from_weight_decay is set, but weight_decay is 0" "$BASE
[train]
optimizer = adamw
weight_decay = 0
exclude_from_weight_decay = bias"
expect_error "another optimizer's key" \
  "c.cfg:9: rho does not apply to optimizer = lion" "$BASE
[train]
optimizer = lion
rho = 0.9"
expect_error "an unknown optimizer" \
  "c.cfg:8: unknown optimizer 'adadelta' (one of: sgd, adam, adamw, rmsprop, adagrad, nadam, lion)" "$BASE
[train]
optimizer = adadelta"
expect_error "a Keras option reprodist does not support" \
  "c.cfg:8: unknown key 'amsgrad' in [train]" "$BASE
[train]
amsgrad = true"
expect_error "ema_momentum without use_ema" \
  "c.cfg:8: ema_momentum is set, but use_ema is false" "$BASE
[train]
ema_momentum = 0.9"
# Losses (src/loss.c, src/losses/).
expect_error "label_smoothing under sparse crossentropy" \
  "c.cfg:8: label_smoothing does not apply to loss = sparse_categorical_crossentropy (Keras' SparseCategoricalCrossentropy has none; loss = categorical_crossentropy takes it)" "$BASE
[train]
label_smoothing = 0.1"
expect_error "an unknown loss" \
  "c.cfg:8: unknown loss 'hinge' (one of: sparse_categorical_crossentropy, mse, categorical_crossentropy, binary_crossentropy)" "$BASE
[train]
loss = hinge"
expect_train_error "binary_crossentropy without a sigmoid" \
  "c.cfg:11: loss = binary_crossentropy needs activation = sigmoid on the last layer ('dense' has softmax)" "$BASE
activation = softmax
[data]
source = synthetic
[train]
loss = binary_crossentropy"
expect_train_error "binary_crossentropy on 3 units" \
  "c.cfg:11: loss = binary_crossentropy needs a last layer of 1 unit (two classes, labels 0 and 1); 'dense' has 3 (for more classes: categorical_crossentropy and softmax)" "$BASE
activation = sigmoid
[data]
source = synthetic
[train]
loss = binary_crossentropy"
expect_train_error "categorical_crossentropy without a softmax" \
  "c.cfg:10: loss = categorical_crossentropy needs activation = softmax on the last layer ('dense' has linear)" "$BASE
[data]
source = synthetic
[train]
loss = categorical_crossentropy"
# class_weight and metrics (src/train.c).
expect_error "class_weight not CLASS: WEIGHT" \
  "c.cfg:8: class_weight = '0: 1, two: 2': write 'CLASS: WEIGHT, ...' with class labels (integers >= 0) and weights (finite numbers >= 0), as Keras' fit(class_weight={0: 1.0, 1: 2.5})" "$BASE
[train]
class_weight = 0: 1, two: 2"
expect_error "class_weight with a negative weight" \
  "c.cfg:8: class_weight = '1: -0.5': write 'CLASS: WEIGHT, ...' with class labels (integers >= 0) and weights (finite numbers >= 0), as Keras' fit(class_weight={0: 1.0, 1: 2.5})" "$BASE
[train]
class_weight = 1: -0.5"
expect_error "class_weight naming a class twice" \
  "c.cfg:8: class_weight: class 2 is given twice" "$BASE
[train]
class_weight = 2: 1.5, 0: 1, 2: 3"
expect_train_error "class_weight naming a class the model lacks" \
  "c.cfg:11: class_weight names class 3, but the model has 3 classes (0 to 2)" "$BASE
activation = softmax
[data]
source = synthetic
[train]
class_weight = 0: 2, 3: 1"
expect_error "an unknown metric" \
  "c.cfg:8: metrics: unknown metric 'f1_score' (known: accuracy, top_k_categorical_accuracy)" "$BASE
[train]
metrics = accuracy, f1_score"
expect_error "top_k without its metric" \
  "c.cfg:8: top_k applies only with metrics = top_k_categorical_accuracy" "$BASE
[train]
top_k = 3"
expect_train_error "top-k accuracy on one sigmoid unit" \
  "c.cfg:12: top_k_categorical_accuracy needs one output per class; 'dense' has 1 (loss = binary_crossentropy)" "[run]
seed = 1
[model]
input = 4
[dense]
units = 1
activation = sigmoid
[data]
source = synthetic
[train]
loss = binary_crossentropy
metrics = top_k_categorical_accuracy"
# Validation data (src/data.c).
expect_error "validation_split of 1" \
  "c.cfg:8: validation_split = 1 is out of range (must be in [0, 1))" "$BASE
[data]
validation_split = 1"
expect_error "val_x without val_y" \
  "c.cfg:9: val_x needs val_y too (the validation set's labels)" "$BASE
[data]
source = idx
val_x = v.idx"
expect_error "validation_split with a validation set" \
  "c.cfg:10: validation_split and an explicit validation set (val_samples) are both set: keep one (Keras' fit would use the validation data and ignore validation_split)" "$BASE
[data]
source = synthetic
val_samples = 10
validation_split = 0.5"
expect_error "val_limit without a validation set" \
  "c.cfg:9: val_limit does not apply without val_x and val_y" "$BASE
[data]
source = idx
val_limit = 10"
expect_train_error "validation_split leaving no training sample" \
  "c.cfg:11: validation_split = 0.9 of 3 training samples leaves the training set empty (Keras' fit refuses it); change the split or the data" "$BASE
activation = softmax
[data]
source = synthetic
samples = 3
validation_split = 0.9
[train]
batch_size = 1"
# Callbacks (src/callback.c, src/callbacks/). CB: a softmax model on synthetic data, lines 1-9.
CB="$BASE
activation = softmax
[data]
source = synthetic"
expect_error "early_stopping on val_loss without validation data" \
  "c.cfg:10: monitor = val_loss (the default) needs validation data ([data] validation_split, or val_x and val_y); or monitor = loss" "$CB
[early_stopping]
patience = 2"
expect_error "an unknown mode" \
  "c.cfg:12: unknown mode 'maximum' (one of: auto, min, max)" "$CB
[early_stopping]
monitor = accuracy
mode = maximum"
expect_error "reduce_lr_on_plateau with factor 1 (Keras refuses >= 1)" \
  "c.cfg:12: factor = 1 is out of range (must be in [0, 1))" "$CB
validation_split = 0.2
[reduce_lr_on_plateau]
factor = 1"
expect_error "reduce_lr_on_plateau with a schedule (Keras cannot set its rate)" \
  "c.cfg:15: [reduce_lr_on_plateau] needs a constant [train] learning_rate: Keras cannot set the rate of an optimizer built with a LearningRateSchedule" "$CB
[train]
learning_rate = cosine_decay
[cosine_decay]
initial_learning_rate = 0.1
decay_steps = 10
[reduce_lr_on_plateau]
monitor = loss"
expect_error "monitoring top-k without the metric" \
  "c.cfg:11: monitor = top_k_categorical_accuracy needs [train] metrics = top_k_categorical_accuracy" "$CB
[early_stopping]
monitor = top_k_categorical_accuracy"
expect_error "a key of another callback" \
  "c.cfg:12: unknown key 'cooldown' in [early_stopping]" "$CB
[early_stopping]
monitor = loss
cooldown = 1"
expect_error "a monitor that is no log" \
  "c.cfg:11: unknown monitor 'val_acc' (one of: loss, accuracy, top_k_categorical_accuracy, val_loss, val_accuracy, val_top_k_categorical_accuracy)" "$CB
[early_stopping]
monitor = val_acc"
expect_error "model_checkpoint without filepath" \
  "c.cfg:10: [model_checkpoint] needs filepath = PATH (Keras' ModelCheckpoint(filepath))" "$CB
[model_checkpoint]
save_best_only = false"
expect_error "model_checkpoint: a .keras archive with save_weights_only (Keras refuses it)" \
  "c.cfg:11: filepath = best.keras must end in .weights.h5 with save_weights_only = true (as Keras requires)" "$CB
[model_checkpoint]
filepath = best.keras
save_weights_only = true"
expect_error "model_checkpoint: neither .keras nor .h5" \
  "c.cfg:11: filepath = best.ckpt must end in .keras (the whole model) or .h5 (the weights), as Keras requires" "$CB
[model_checkpoint]
filepath = best.ckpt"
expect_error "model_checkpoint save_weights_only without .weights.h5 (Keras refuses it)" \
  "c.cfg:11: filepath = w.h5 must end in .weights.h5 with save_weights_only = true (as Keras requires)" "$CB
[model_checkpoint]
filepath = w.h5
save_weights_only = true"
expect_error "model_checkpoint formatting a log the run does not have" \
  "c.cfg:11: filepath = w{epoch:02d}-{val_loss:.2f}.h5: {val_loss}: no such value (Keras formats the path with epoch and the epoch's logs)" "$CB
[model_checkpoint]
filepath = w{epoch:02d}-{val_loss:.2f}.h5"
expect_error "model_checkpoint formatting the epoch as a float code Python refuses" \
  "c.cfg:11: filepath = w{loss:d}.h5: {loss:d}: format code 'd' is for integers, and loss is a float" "$CB
[model_checkpoint]
filepath = w{loss:d}.h5"
expect_error "model_checkpoint with a save_freq that is no count" \
  "c.cfg:12: save_freq = often must be epoch or a number of steps (batches), 1 or more" "$CB
[model_checkpoint]
filepath = w.h5
save_freq = often"
expect_error "model_checkpoint saving the best every N steps on a validation log" \
  "c.cfg:14: save_freq = 100 with save_best_only needs a monitor the steps' logs have (loss, accuracy): val_loss exists at epochs' ends only (Keras would save at every step)" "$CB
validation_split = 0.2
[model_checkpoint]
filepath = w.h5
save_best_only = true
save_freq = 100"
expect_error "model_checkpoint naming a validation log in a per-step path" \
  "c.cfg:12: filepath = w{batch}-{val_loss}.h5: {val_loss}: no such value (Keras formats the path with epoch and the epoch's logs)" "$CB
validation_split = 0.2
[model_checkpoint]
filepath = w{batch}-{val_loss}.h5
save_freq = 5"
expect_error "csv_logger without filename" "c.cfg:10: [csv_logger] needs filename = PATH (Keras' CSVLogger(filename))" "$CB
[csv_logger]
append = true"
expect_error "csv_logger with a two-character separator" \
  "c.cfg:12: separator = '::' must be one character (Python's csv module takes one)" "$CB
[csv_logger]
filename = log.csv
separator = ::"
expect_train_error "csv_logger into a path through a file" \
  "c.cfg/log.csv: cannot write this file of [csv_logger] (c.cfg:10): Not a directory" "$CB
[csv_logger]
filename = c.cfg/log.csv"
# Regularizers (src/regularizer.c).
expect_error "activity_regularizer on the output layer" \
  "c.cfg:7: activity_regularizer does not apply to the output layer (reprodist regularizes hidden layers' outputs)" "$BASE
activity_regularizer = l2"
expect_error "an unknown regularizer" \
  "c.cfg:7: unknown kernel_regularizer 'l3' (one of: none, l1, l2, l1_l2)" "$BASE
kernel_regularizer = l3"
expect_error "a factor the regularizer does not take" \
  "c.cfg:8: kernel_l2 does not apply to kernel_regularizer = l1" "$BASE
kernel_regularizer = l1
kernel_l2 = 0.1"
expect_error "a negative factor" \
  "c.cfg:8: kernel_l2 = -1 is out of range (must be in [0, 1000000])" "$BASE
kernel_regularizer = l2
kernel_l2 = -1"
expect_error "a regularizer on a non-trainable tensor" \
  "c.cfg:8: moving_mean_regularizer does not apply to the non-trainable tensor moving_mean" "$BASE
[batch_normalization]
moving_mean_regularizer = l2"
expect_error "activity_regularizer on a reshape layer" \
  "c.cfg:8: activity_regularizer does not apply to a reshape layer (regularize the layer before it)" "$BASE
[flatten]
activity_regularizer = l1
[dense]
units = 2"
expect_error "sgd momentum above 1 (Keras: in [0, 1])" \
  "c.cfg:9: momentum = 1.5 is out of range (must be in [0, 1])" "$BASE
[train]
optimizer = sgd
momentum = 1.5"
expect_error "orthogonal on a bias" \
  "c.cfg:7: orthogonal needs a 2-D tensor; bias of layer 'dense' is 1-D" "$BASE
bias_initializer = orthogonal"
expect_error "minval greater than maxval" \
  "c.cfg:9: kernel_minval = 1 is greater than kernel_maxval = 0" "$BASE
kernel_initializer = random_uniform
kernel_minval = 1
kernel_maxval = 0"

# ---- the convnet layers ---------------------------------------------------------------
IMG='[run]
seed = 1
[model]
input = 5,5,1'
expect_error "conv2d without filters" "c.cfg:5: [conv2d] needs filters = N" "$IMG
[conv2d]
kernel_size = 3"
expect_error "conv2d kernel larger than the input" \
  "c.cfg:7: kernel 6x3 is larger than the input 5x5 (padding = valid)" "$IMG
[conv2d]
filters = 2
kernel_size = 6,3"
expect_error "conv2d kernel_size with three values" \
  "c.cfg:7: kernel_size = '3,3,3' must be one integer or 2 separated by commas" "$IMG
[conv2d]
filters = 2
kernel_size = 3,3,3"
expect_error "winograd on a 5x5 kernel" \
  "c.cfg:8: winograd needs kernel_size = 3 and strides = 1, not 5x5 at 1x1" "$IMG
[conv2d]
filters = 2
kernel_size = 5
algorithm = winograd"
expect_error "winograd at stride 2" \
  "c.cfg:10: winograd needs kernel_size = 3 and strides = 1, not 3x3 at 2x2" "$IMG
[conv2d]
filters = 2
kernel_size = 3
padding = same
strides = 2
algorithm = winograd"
expect_error "winograd4 on a 3x1 kernel" \
  "c.cfg:8: winograd4 needs kernel_size = 3 and strides = 1, not 3x1 at 1x1" "$IMG
[conv2d]
filters = 2
kernel_size = 3,1
algorithm = winograd4"
expect_error "unknown conv2d algorithm" "c.cfg:8: unknown algorithm 'fft' (one of: direct, winograd, winograd4)" "$IMG
[conv2d]
filters = 2
kernel_size = 3
algorithm = fft"
expect_error "conv2d on a flat input" \
  "c.cfg:7: [conv2d] needs an input of (height, width, channels), not 1-D (set [model] input = H,W,C)" "$BASE
[conv2d]
filters = 2
kernel_size = 1"
expect_error "unknown padding" "c.cfg:6: unknown padding 'full' (one of: valid, same)" "$IMG
[max_pooling2d]
padding = full"
expect_error "dropout rate 1" "c.cfg:8: rate = 1 is out of range (must be in [0, 1))" "$BASE
[dropout]
rate = 1"
expect_error "reshape to another size" "c.cfg:8: target_shape holds 6 values, the input 3" "$BASE
[reshape]
target_shape = 2,3"
expect_error "batch normalization over another axis" \
  "c.cfg:6: [batch_normalization] normalizes the last (channels) axis only: axis = -1" "$IMG
[batch_normalization]
axis = 1"
expect_error "zero padding of three values" \
  "c.cfg:6: padding takes 1, 2 (height, width) or 4 (top, bottom, left, right) values" "$IMG
[zero_padding2d]
padding = 1,2,3"
expect_error "zero padding on a flat input" \
  "c.cfg:7: [zero_padding2d] needs an input of (height, width, channels), not 1-D" "$BASE
[zero_padding2d]"
expect_error "depthwise conv without kernel_size" "c.cfg:5: [depthwise_conv2d] needs kernel_size = K or KH,KW" "$IMG
[depthwise_conv2d]
depth_multiplier = 2"
expect_error "separable conv larger than the input" \
  "c.cfg:7: kernel 6x6 is larger than the input 5x5 (padding = valid)" "$IMG
[separable_conv2d]
filters = 2
kernel_size = 6"
expect_error "layer normalization over another axis" \
  "c.cfg:6: [layer_normalization] normalizes the last axis only: axis = -1" "$IMG
[layer_normalization]
axis = 1"
# The image augmentation layers.
expect_error "random_crop larger than the input" \
  "c.cfg:6: [random_crop] crops 6 x 5 from an input of 5 x 5; the crop must fit in the input (Keras would resize the input; pad it first with [zero_padding2d])" "$IMG
[random_crop]
height = 6
width = 5"
expect_error "random_crop without width" "c.cfg:5: [random_crop] needs height = H and width = W, the crop's size" "$IMG
[random_crop]
height = 3"
expect_error "random_translation without width_factor" \
  "c.cfg:5: [random_translation] needs height_factor and width_factor (Keras' required arguments)" "$IMG
[random_translation]
height_factor = 0.1"
expect_error "random_rotation factor out of range" \
  "c.cfg:6: factor = '0.1,1.5': 1.5 is out of range (each must be in [-1, 1])" "$IMG
[random_rotation]
factor = 0.1,1.5"
expect_error "random_zoom with three factors" "c.cfg:6: height_factor = '0.1,0.2,0.3' must be 1 to 2 numbers separated by commas" "$IMG
[random_zoom]
height_factor = 0.1,0.2,0.3"
expect_error "random_translation with an unknown fill_mode" \
  "c.cfg:8: unknown fill_mode 'mirror' (one of: reflect, wrap, constant, nearest)" "$IMG
[random_translation]
height_factor = 0.1
width_factor = 0.1
fill_mode = mirror"
expect_error "random_contrast without factor" "c.cfg:5: [random_contrast] needs factor = F (Keras' required argument)" "$IMG
[random_contrast]
value_range = 0,1"
expect_error "random_contrast with a reversed value_range" "c.cfg:7: value_range = 1,0 must be low,high with low < high" "$IMG
[random_contrast]
factor = 0.2
value_range = 1,0"
expect_error "random_erasing with two fill values on one channel" \
  "c.cfg:6: fill_value has 2 values; it takes one, or one per channel (1)" "$IMG
[random_erasing]
fill_value = 0.5,0.1"
expect_error "random_flip on a flat input" "c.cfg:7: [random_flip] needs an input of (height, width, channels), not 1-D" "$BASE
[random_flip]"
expect_error "random_flip with an unknown mode" \
  "c.cfg:6: unknown mode 'diagonal' (one of: horizontal, vertical, horizontal_and_vertical)" "$IMG
[random_flip]
mode = diagonal"
expect_error "a BatchNormalization key without scale" "c.cfg:7: gamma_initializer is set but scale = false" "$IMG
[batch_normalization]
scale = false
gamma_initializer = zeros"

# ---- graphs: `inputs` that name no layer, a later one or a cycle; a layer whose
# output reaches no output; merges with one input or inputs of two shapes ------
expect_error "inputs: an unknown name" "c.cfg:9: inputs: no layer is named 'nope' (the model input is 'input')" "$BASE
[dense]
units = 2
inputs = nope"
expect_error "inputs: a layer defined later" \
  "c.cfg:8: inputs: layer 'later' is defined after this one (line 9); a layer's inputs come before it in the file" "$BASE
[add]
inputs = dense, later
[dense]
name = later
units = 3
inputs = input"
# Without inputs, 'later' takes the output of the [add] before it: a cycle.
expect_error "inputs: a layer defined later, taking this one's output" \
  "c.cfg:8: inputs: layer 'later' (line 9) takes its input from this one: a cycle" "$BASE
[add]
inputs = dense, later
[dense]
name = later
units = 3"
expect_error "inputs: a cycle of two layers" "c.cfg:10: inputs: layer 'b' (line 11) takes its input from this one: a cycle" "$BASE
[dense]
name = a
units = 3
inputs = b
[dense]
name = b
units = 3
inputs = a"
expect_error "inputs: a layer taking its own output" "c.cfg:10: inputs: layer 'a' cannot take its own output (a cycle)" "$BASE
[dense]
name = a
units = 3
inputs = a"
expect_error "a layer whose output reaches no output" \
  "c.cfg:7: the output of layer 'side' reaches no output (the model's output is its last layer, 'dense_1'); use it in a later layer's inputs, or remove it" "$BASE
[dense]
name = side
units = 2
[dense]
units = 3
inputs = dense"
expect_error "a merge of two shapes" "c.cfg:11: [add] takes inputs of one shape: input 1 is (3,) but input 2 is (5,)" "$BASE
[dense]
units = 5
inputs = input
[add]
inputs = dense, dense_1"
expect_error "a merge with one input named" "c.cfg:8: [add] takes two or more inputs (inputs = a, b, ...); it has 1" "$BASE
[add]
inputs = dense"
expect_error "a merge without inputs" "c.cfg:7: [maximum] takes two or more inputs (inputs = a, b, ...); it has 1" "$BASE
[maximum]"
expect_error "subtract of three" "c.cfg:8: [subtract] takes exactly 2 inputs (inputs = a, b); it has 3" "$BASE
[subtract]
inputs = dense, dense, input"
expect_error "a one-input layer given two" "c.cfg:9: [dense] takes one input; inputs names 2" "$BASE
[dense]
units = 3
inputs = dense, input"
expect_error "concatenate of mismatched heights" \
  "c.cfg:10: [concatenate] along axis -1: input 1 is (5, 5, 1) but input 2 is (2, 2, 3); only that axis may differ" "$IMG
[conv2d]
filters = 3
kernel_size = 2
strides = 2
[concatenate]
inputs = input, conv2d"
expect_error "concatenate on the batch axis" \
  "c.cfg:6: axis = 0: the inputs have 3 axes besides the batch axis 0, so axis is one of 1..3 or -3..-1" "$IMG
[concatenate]
axis = 0
inputs = input, input"
expect_error "a graph layer named input" \
  "c.cfg:8: a layer of a graph cannot be named 'input': inputs = input means the model input, and its Keras layer is input_layer" "$BASE
[dense]
name = input
units = 3
[add]
inputs = dense, input"
expect_error "inputs with an empty name" "c.cfg:9: inputs = 'dense,,input' has an empty name (names separated by commas)" "$BASE
[add]
name = s
inputs = dense,,input"

# ---- an output that does not exist yet stays absent, at every stage of failure ---
expect_no_output "parse error" "$BASE
[bogus]"
expect_no_output "schema error" "$BASE_NO_UNITS
units = 0"
expect_no_output "--set error" "$BASE" --set run.seed=nan
expect_no_output "model error" "$BASE
bias_initializer = orthogonal"
expect_no_output "missing config" @none

collect
rd_finish
