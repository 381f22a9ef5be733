#!/usr/bin/env python3
"""The scoring of KorQuAD 1.0's official evaluate-v1.0.py, statement for statement.

    python3 korquad_evaluate_v1_0.py DEV.json PREDICTIONS.json

prints {"exact_match": ..., "f1": ...} as the official script does. Its normalisation:
' " 《 》 < > 〈 〉 ( ) ‘ ’ become spaces, str.lower(), string.punctuation removed,
' '.join(text.split()); F1 over the characters of the normalised tokens.
"""
import argparse
import json
import re
import string
import sys
from collections import Counter


def normalize_answer(s):
    def remove_(text):
        text = re.sub("'", " ", text)
        text = re.sub('"', " ", text)
        text = re.sub('《', " ", text)
        text = re.sub('》', " ", text)
        text = re.sub('<', " ", text)
        text = re.sub('>', " ", text)
        text = re.sub('〈', " ", text)
        text = re.sub('〉', " ", text)
        text = re.sub(r"\(", " ", text)
        text = re.sub(r"\)", " ", text)
        text = re.sub("‘", " ", text)
        text = re.sub("’", " ", text)
        return text

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_punc(lower(remove_(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()

    # F1 by character
    prediction_char = []
    for tok in prediction_tokens:
        prediction_char.extend([a for a in tok])
    ground_truth_char = []
    for tok in ground_truth_tokens:
        ground_truth_char.extend([a for a in tok])

    common = Counter(prediction_char) & Counter(ground_truth_char)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_char)
    recall = 1.0 * num_same / len(ground_truth_char)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, ground_truth) for ground_truth in ground_truths)


def evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article['paragraphs']:
            for qa in paragraph['qas']:
                total += 1
                if qa['id'] not in predictions:
                    print('Unanswered question ' + qa['id'] + ' will receive score 0.', file=sys.stderr)
                    continue
                ground_truths = [x['text'] for x in qa['answers']]
                prediction = predictions[qa['id']]
                exact_match += metric_max_over_ground_truths(exact_match_score, prediction, ground_truths)
                f1 += metric_max_over_ground_truths(f1_score, prediction, ground_truths)
    exact_match = 100.0 * exact_match / total
    f1 = 100.0 * f1 / total
    return {'exact_match': exact_match, 'f1': f1}


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Evaluation for KorQuAD 1.0')
    parser.add_argument('dataset_file', help='Dataset file')
    parser.add_argument('prediction_file', help='Prediction File')
    args = parser.parse_args()
    with open(args.dataset_file, encoding='utf-8') as dataset_file:
        dataset = json.load(dataset_file)['data']
    with open(args.prediction_file, encoding='utf-8') as prediction_file:
        predictions = json.load(prediction_file)
    print(json.dumps(evaluate(dataset, predictions)))
