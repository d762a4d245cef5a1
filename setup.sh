#!/bin/sh
# Runs before the server on every dyno start (Procfile). It only reads: on a dyno HOME is the app
# folder, so writing "$HOME/.streamlit/config.toml" would overwrite the committed settings. The
# server's own settings are in .streamlit/config.toml and the Procfile's flags.
#
# Names any missing model file in the log (heroku logs). The server still starts, so that visitors
# get the page's plain message instead of Heroku's "Application error".
folder="${MODEL_DIR:-.}"
for file in classification_model_best.pt bert-word-piece-custom-wikitext-vocab-10k-vocab.txt \
            idx2class.pkl idx2subclass.pkl class2names.pkl subclass2names.pkl; do
  if [ ! -s "$folder/$file" ]; then
    echo "setup.sh: model file missing or empty: $folder/$file (restore it from the repository or retrain)" >&2
  fi
done
exit 0
