#!/usr/bin/python3
"""Writes tests/keras/archives.json from .keras archives real Keras wrote: for each, the zip's members (names,
order, compression, dates), metadata.json's keys, config.json (without the Python object ids Keras records as
shared_object_id) and model.weights.h5's objects (path, group or dataset, shape, dtype kind, the vars groups'
name attribute). Only zipfile, json and h5py: no Keras.

  tests/keras/extract_archives.py NAME=FILE.keras ... > tests/keras/archives.json
"""
import io
import json
import sys
import zipfile

import h5py


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k != "shared_object_id"}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o


def archive(path):
    z = zipfile.ZipFile(path)
    members = [{"name": i.filename, "compress_type": i.compress_type} for i in z.infolist()]
    objs = []
    with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        def visit(name, o):
            if isinstance(o, h5py.Dataset):
                objs.append([name, "dataset", list(o.shape), o.dtype.kind])
            else:
                objs.append([name, "group", None, o.attrs.get("name")])
        f.visititems(visit)
    return {"members": members, "metadata_keys": list(json.loads(z.read("metadata.json"))),
            "config": strip(json.loads(z.read("config.json"))), "weights_h5": objs}


def main():
    out = {}
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        out[name] = archive(path)
    json.dump(out, sys.stdout, indent=0, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
