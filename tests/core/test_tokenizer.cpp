// The sentencepiece tokenizer with T5's ids, loaded through the shim inside a process that also
// runs LibTorch (the combination that crashes when sentencepiece is linked directly).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <ATen/ATen.h>

#include "core/tokenizer/tokenizer.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

TEST(Tokenizer, ShimLoadsBesideLibTorch) {
    at::Tensor t = at::ones({2, 2});  // LibTorch (and its protobuf) is live in this process
    EXPECT_NE(sentencepiece_shim_path().find("gs_sentencepiece_shim.so"), std::string::npos);
    EXPECT_EQ(t.sum().item<float>(), 4.0f);
}

TEST(Tokenizer, TrainedModelHasT5SpecialIds) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    EXPECT_EQ(tokenizer.piece_count(), test::kKoreanVocab);
    EXPECT_EQ(tokenizer.piece(0), "<pad>");
    EXPECT_EQ(tokenizer.piece(1), "</s>");
    EXPECT_EQ(tokenizer.piece(2), "<unk>");
    EXPECT_EQ(tokenizer.piece_to_id("</s>"), Tokenizer::kEosId);
    EXPECT_EQ(tokenizer.size(), test::kKoreanVocab + 100);
    EXPECT_EQ(tokenizer.sentinel_id(0), tokenizer.size() - 1);
    EXPECT_EQ(tokenizer.sentinel_id(99), test::kKoreanVocab);
    EXPECT_EQ(tokenizer.piece(tokenizer.size() - 1), "<extra_id_0>");
    EXPECT_EQ(tokenizer.piece(test::kKoreanVocab), "<extra_id_99>");
    EXPECT_EQ(tokenizer.piece_to_id("<extra_id_7>"), tokenizer.size() - 8);
    EXPECT_EQ(tokenizer.model_vocab_size() % 128, 0);
    EXPECT_GE(tokenizer.model_vocab_size(), tokenizer.size());
    EXPECT_LT(tokenizer.model_vocab_size(), tokenizer.size() + 128);
}

TEST(Tokenizer, EncodesAndDecodesKoreanText) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    const std::string text = "아파치를 시작하면 아파치는 컴퓨터의 어떤 포트와 주소에 연결한다.";
    const std::vector<int32_t> ids = tokenizer.encode(text);
    ASSERT_FALSE(ids.empty());
    EXPECT_LT(ids.size(), text.size() / 3);  // pieces longer than one syllable
    for (int32_t id : ids) {
        EXPECT_GT(id, Tokenizer::kEosId);
        EXPECT_LT(id, tokenizer.piece_count());
    }
    EXPECT_EQ(tokenizer.decode(ids), text);
    std::vector<int32_t> with_sentinel = ids;
    with_sentinel.insert(with_sentinel.begin() + 1, tokenizer.sentinel_id(0));
    EXPECT_NE(tokenizer.decode(with_sentinel).find("<extra_id_0>"), std::string::npos);
}

TEST(Tokenizer, SavedModelLoadsWithTheSameIdsAndFingerprint) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    tokenizer.save(dir.file("spiece.model"));
    const Tokenizer loaded = Tokenizer::load(dir.file("spiece.model"));
    EXPECT_EQ(loaded.fingerprint(), tokenizer.fingerprint());
    EXPECT_EQ(loaded.encode("가상호스트 설정"), tokenizer.encode("가상호스트 설정"));
}

TEST(Tokenizer, RejectsFilesThatAreNotModels) {
    test::TempDir dir;
    const std::string path = dir.file("bad.model");
    test::write_text(path, "not a model");
    try {
        Tokenizer::load(path);
        FAIL() << "loaded a bad model";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
}

TEST(Tokenizer, RejectsModelsWithOtherSpecialIds) {
    // spm_train's defaults (unk 0, bos 1, eos 2, no pad) are not T5's.
    if (std::system("command -v spm_train > /dev/null") != 0) GTEST_SKIP() << "spm_train (package sentencepiece) absent";
    test::TempDir dir;
    test::write_text(dir.file("text.txt"), "가나다 라마바 사아자\n차카타 파하 가나다\n");
    const std::string command = "spm_train --input=" + dir.file("text.txt") + " --model_prefix=" + dir.file("plain") +
                                " --vocab_size=20 --model_type=char --minloglevel=2 > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    try {
        Tokenizer::load(dir.file("plain.model"));
        FAIL() << "accepted a model with unk=0";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("pad=-1 eos=2 unk=0 bos=1; T5 needs pad=0 eos=1 unk=2"),
                  std::string::npos) << error.what();
    }
}

TEST(Tokenizer, AnExternalModelWithT5sIdsLoadsAndEncodesAsSentencepieceDoes) {
    // A model made the way google made T5's spiece.model (pad 0, eos 1, unk 2, no bos), by
    // sentencepiece's own tools; its encoding is checked against spm_encode.
    if (std::system("command -v spm_train > /dev/null && command -v spm_encode > /dev/null") != 0) {
        GTEST_SKIP() << "spm_train / spm_encode (package sentencepiece) absent";
    }
    test::TempDir dir;
    test::write_text(dir.file("text.txt"), "가상호스트 설정은 서버 설정 파일에서 합니다.\n아파치 웹서버 문서를 읽습니다.\n"
                                           "설정 파일의 지시어를 확인하세요.\n서버를 다시 시작합니다.\n");
    const std::string train = "spm_train --input=" + dir.file("text.txt") + " --model_prefix=" + dir.file("google") +
                              " --vocab_size=40 --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1"
                              " --minloglevel=2 > /dev/null 2>&1";
    ASSERT_EQ(std::system(train.c_str()), 0);
    const Tokenizer tokenizer = Tokenizer::load(dir.file("google.model"));
    EXPECT_EQ(tokenizer.piece_count(), 40);
    EXPECT_EQ(tokenizer.size(), 140);
    EXPECT_EQ(tokenizer.model_vocab_size(), 256);
    EXPECT_EQ(tokenizer.sentinel_id(0), 139);
    EXPECT_EQ(tokenizer.sentinel_id(99), 40);
    const std::string sentence = "서버 설정 파일을 다시 확인합니다.";
    test::write_text(dir.file("sentence.txt"), sentence + "\n");
    const std::string encode = "spm_encode --model=" + dir.file("google.model") + " --output_format=id < " +
                               dir.file("sentence.txt") + " > " + dir.file("ids.txt");
    ASSERT_EQ(std::system(encode.c_str()), 0);
    std::ifstream in(dir.file("ids.txt"));
    std::vector<int32_t> expected;
    for (int32_t id; in >> id;) expected.push_back(id);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(tokenizer.encode(sentence), expected);
}

TEST(Tokenizer, TrainingCanBeCancelledWhileReading) {
    int sentences = 0;
    SentenceSource source = [&](std::string& sentence) {
        sentence = "문장 " + std::to_string(sentences++);
        return true;  // endless: only the cancel ends it
    };
    ProgressCallback cancel_soon = [](const Progress&) { return false; };
    TokenizerTrainingOptions options;
    options.vocab_size = 100;
    EXPECT_THROW(Tokenizer::train(options, source, cancel_soon), OperationCancelled);
}

}  // namespace
}  // namespace gs
