# The launch/ scripts, as users run them.
rd_script_test(launchers launchers.sh)
