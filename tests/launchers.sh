#!/usr/bin/env bash
# launch/repro-check and launch/plot, as a user runs them.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP"
export REPRODIST

# repro-check agrees with itself on a quick config...
"$RD_SRC/launch/repro-check" "$RD_SRC/configs/synthetic.cfg" 1 2 3 --set train.epochs=1 --out same > same.txt 2>&1
rc=$?
cat same.txt
rd_check "repro-check: identical runs exit 0" [ $rc -eq 0 ]
rd_check "repro-check: the table has a row per rank count, all identical" \
  [ "$(grep -cE '^[123] +[0-9a-f]{64} +[0-9.]+ +yes$' same.txt)" -eq 3 ]
rd_check "repro-check: --set reached the runs (1 epoch logged)" grep -q "epoch 1/1" same/np2.log

# ...and catches a difference: a wrapper that lets np leak into the seed.
cat > leaky <<EOS
#!/usr/bin/env bash
exec "$REPRODIST" "\$@" --set run.seed=\${OMPI_COMM_WORLD_SIZE:-1}
EOS
chmod +x leaky
REPRODIST=$PWD/leaky "$RD_SRC/launch/repro-check" "$RD_SRC/configs/synthetic.cfg" 1 2 --set train.epochs=1 --out leak > leak.txt 2>&1
rc=$?
cat leak.txt
rd_check "repro-check: np-dependent results exit 1" [ $rc -eq 1 ]
rd_check "repro-check: the differing row says NO" grep -qE '^2 +[0-9a-f]{64} +[0-9.]+ +NO$' leak.txt
rd_check "repro-check: reprodist check's verdict is shown" grep -q "DIFFERENT" leak.txt

"$RD_SRC/launch/repro-check" /nonexistent.cfg > bad.txt 2>&1
rd_check "repro-check: unreadable config exits 2" [ $? -eq 2 ]
"$RD_SRC/launch/repro-check" "$RD_SRC/configs/synthetic.cfg" x > bad.txt 2>&1
rd_check "repro-check: a bad rank count exits 2" [ $? -eq 2 ]

# plot: learning curves from a metrics file.
if command -v gnuplot > /dev/null; then
  rd_run 2 "$RD_SRC/configs/synthetic.cfg" --set train.epochs=3 --set run.metrics=m.jsonl -o p.h5 > p.log 2>&1
  rd_check "metrics file has one line per epoch" [ "$(wc -l < m.jsonl)" -eq 3 ]
  "$RD_SRC/launch/plot" m.jsonl -o curves.png > plot.txt 2>&1
  rd_check "plot exits 0" [ $? -eq 0 ]
  rd_check "plot wrote a 1000x420 PNG" "$RD_PYTHON" -c '
import struct, sys
b = open("curves.png", "rb").read(24)
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (1000, 420) else 1)'
  echo '{"not": "metrics"}' > junk.jsonl
  "$RD_SRC/launch/plot" junk.jsonl -o junk.png > junk.txt 2>&1
  rd_check "plot refuses a file that is not metrics (exit 2)" [ $? -eq 2 ]
  rd_check "plot names the bad line" grep -q "line 1 is not a reprodist metrics line" junk.txt
else
  echo "SKIP: gnuplot is not installed; the plot checks did not run"
  rd_fail "gnuplot missing (launch/deps --test installs gnuplot-nox)"
fi
rd_finish
